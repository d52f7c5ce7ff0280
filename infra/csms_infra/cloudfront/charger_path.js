// CloudFront Function (cloudfront-js-2.0), viewer request, in front of the WebSocket API.
//
// API Gateway WebSocket APIs accept no path after the stage, but OCPP-J chargers connect to
// wss://host/ocpp/{chargePointId}. This function moves the id into a header and rewrites
// the URI to "/" (the origin path adds "/{stage}"). The query string is left untouched.
//
// It also drops any client-supplied copy of the id header and of the origin-verify header:
// only CloudFront may set them ($connect trusts the id header only next to the secret
// origin header, which CloudFront adds as an origin custom header after this function).
//
// Anything that is not /ocpp/{id} or /ocpp/{id}/ gets 404 before it reaches API Gateway,
// but a browser opening the distribution's root (or /console without its slash) is sent to
// the operator console, served from the /console/* behaviour.
//
// Keep to ES5 syntax: this file runs unchanged in CloudFront and in the Node test harness.
// The header names must equal csms.constants (lower case); the CDK app checks that.

var CHARGE_POINT_ID_HEADER = 'x-csms-charge-point-id';
var ORIGIN_VERIFY_HEADER = 'x-csms-origin-verify';
var OCPP_PATH_PREFIX = '/ocpp/';
var CONSOLE_PATH = '/console/';

function toConsole() {
    return {
        statusCode: 302,
        statusDescription: 'Found',
        headers: { location: { value: CONSOLE_PATH }, 'cache-control': { value: 'no-cache' } },
    };
}

function notFound() {
    return {
        statusCode: 404,
        statusDescription: 'Not Found',
        headers: { 'content-type': { value: 'text/plain' } },
        body: 'Not Found: connect to ' + OCPP_PATH_PREFIX + '{chargePointId}',
    };
}

function chargePointId(uri) {
    if (uri.indexOf(OCPP_PATH_PREFIX) !== 0) {
        return null;
    }
    var raw = uri.substring(OCPP_PATH_PREFIX.length);
    if (raw.length > 0 && raw.charAt(raw.length - 1) === '/') {
        raw = raw.substring(0, raw.length - 1);
    }
    if (raw.length === 0 || raw.indexOf('/') !== -1) {
        return null;
    }
    var id;
    try {
        id = decodeURIComponent(raw);
    } catch (e) {
        return null; // malformed percent-encoding
    }
    // An encoded "/" or a control character cannot be a charger id and must not reach a header.
    for (var i = 0; i < id.length; i++) {
        var c = id.charCodeAt(i);
        if (c < 0x20 || c === 0x7f || c === 0x2f) {
            return null;
        }
    }
    return id.length > 0 ? id : null;
}

function handler(event) {
    var request = event.request;
    delete request.headers[CHARGE_POINT_ID_HEADER];
    delete request.headers[ORIGIN_VERIFY_HEADER];
    // CloudFront adds its own after this function (the origin request policy forwards it);
    // a copy the client sent is never the viewer's address.
    delete request.headers['cloudfront-viewer-address'];

    var id = chargePointId(request.uri);
    if (id === null) {
        var browsing = !request.headers.upgrade && (request.method === 'GET' || request.method === 'HEAD');
        if (browsing && (request.uri === '/' || request.uri === CONSOLE_PATH.substring(0, CONSOLE_PATH.length - 1))) {
            return toConsole();
        }
        return notFound();
    }
    request.headers[CHARGE_POINT_ID_HEADER] = { value: id };
    request.uri = '/';
    return request;
}
