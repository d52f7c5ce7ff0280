// CloudFront Function (cloudfront-js-2.0), viewer request, on the /console/* behaviour (S3).
//
// The console is a single-page app: its own routes (/console/fleet, /console/stations/CP-1)
// are not files in the bucket. A path whose last segment has no dot is one of them and gets
// index.html; files (/console/assets/index-3f2a9c.js, /console/config.json) pass unchanged,
// so a missing one is an error, not the page served as JavaScript.
//
// Keep to ES5 syntax: this file runs unchanged in CloudFront and in the Node test harness.

var CONSOLE_PATH = '/console/';
var INDEX = CONSOLE_PATH + 'index.html';

function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.indexOf(CONSOLE_PATH) !== 0) {
        return request;
    }
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
        request.uri = INDEX;
    }
    return request;
}
