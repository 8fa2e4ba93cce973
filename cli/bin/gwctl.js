#!/usr/bin/env node
import "../../dist/gwctl.js";
