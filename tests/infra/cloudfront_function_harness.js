// Runs a CloudFront Function file in Node the way CloudFront calls it.
//
//   node cloudfront_function_harness.js <function.js>  < event.json  > result.json
//
// The file is evaluated as a plain script in a fresh context (CloudFront Functions have
// no module system), then its global `handler(event)` is called with the event read from
// stdin. The returned request or response is printed as JSON.
'use strict';

const fs = require('fs');
const vm = require('vm');

const source = fs.readFileSync(process.argv[2], 'utf8');
const sandbox = vm.createContext({});
vm.runInContext(source, sandbox, { filename: process.argv[2] });
if (typeof sandbox.handler !== 'function') {
    throw new Error('the function file defines no global handler(event)');
}
const event = JSON.parse(fs.readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(sandbox.handler(event)));
