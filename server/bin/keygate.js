#!/usr/bin/env node
import "../../dist/keygate.js";
