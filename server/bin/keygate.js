#!/usr/bin/env -S node --max-semi-space-size=8
// The young generation is capped at 2 x 8 MB (Node's default is 2 x 16 MB): measured in
// docs/performance.md, it saves about 30 MB of resident memory under load for about 1.5 % more
// time in garbage collection. Node only takes this flag on its command line.
import "../../dist/keygate.js";
