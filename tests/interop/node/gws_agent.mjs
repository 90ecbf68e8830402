// An agent desktop built on the official CometD JavaScript client, as GWS's own client sample
// (seed 002) builds it: log in over REST, keep the session cookie and the CSRF token, start
// CometD with its default settings (only the URL and the CSRF header configured), subscribe to
// /v2/me/*, and report what arrives.
//
//   node gws_agent.mjs BASE_URL USER PASSWORD (long-polling|websocket) [--ack]
//
// "long-polling" unregisters the websocket transport, as the sample does; "websocket" keeps the
// client's default transport order (websocket first). --ack registers CometD's AckExtension.
// Reports one JSON object per line on stdout: {"event": "subscribed", ...}, {"event": "message",
// ...}, {"event": "disconnected"}, {"event": "failed", ...}. A line "disconnect" on stdin
// disconnects and exits 0; the process exits 2 by itself after 30 s.

import {createInterface} from "node:readline";
import {adapt} from "cometd-nodejs-client";
import {AckExtension, CometD} from "cometd";
import {WebSocket as NodeWebSocket} from "ws";

const [base, user, password, transport, ...flags] = process.argv.slice(2);
const report = (event, fields = {}) => process.stdout.write(JSON.stringify({event, ...fields}) + "\n");
const fail = (reason, fields = {}) => {
    report("failed", {reason, ...fields});
    process.exit(1);
};
setTimeout(() => fail("no outcome within 30 s"), 30_000).unref();

// A browser's cookie jar, shared by XMLHttpRequest (long-polling) and the websocket upgrade.
const jar = new Map();
const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
const storeSetCookie = (header) => {
    const [pair] = header.split(";");
    const equal = pair.indexOf("=");
    if (equal > 0) jar.set(pair.slice(0, equal).trim(), pair.slice(equal + 1).trim());
};

// 1. Log in over REST (GET /me with Basic auth), keeping JSESSIONID and the CSRF token.
const login = await fetch(`${base}/api/v2/me`, {
    headers: {Authorization: "Basic " + Buffer.from(`${user}:${password}`).toString("base64")},
});
if (login.status !== 200) fail("login refused", {status: login.status});
for (const header of login.headers.getSetCookie()) storeSetCookie(header);
const csrfHeader = login.headers.get("x-csrf-header");
const csrfToken = login.headers.get("x-csrf-token");

// 2. The Node adapter gives CometD an XMLHttpRequest and a WebSocket; this WebSocket sends the
// jar's cookies on the upgrade, as a browser does.
adapt({
    cookies: {
        storeCookie: (uri, header, callback) => {
            storeSetCookie(header);
            callback();
        },
        retrieveCookies: (context, uri, callback) => callback(null, [cookieHeader()]),
    },
});
window.WebSocket = class extends NodeWebSocket {
    constructor(url, protocols) {
        super(url, protocols, {headers: {Cookie: cookieHeader()}});
    }
};
const paths = new Set();
let subscribed = null; // the "subscribed" report, held until the client has sent its /meta/connect
const connectSent = () => transport !== "long-polling" || [...paths].some((path) => path.endsWith("/connect"));
const reportSubscribed = () => {
    if (subscribed === null || !connectSent()) return;
    report("subscribed", {...subscribed, paths: [...paths].sort()});
    subscribed = null;
};
const OriginalXHR = window.XMLHttpRequest;
window.XMLHttpRequest = class extends OriginalXHR {
    open(method, uri) {
        paths.add(new URL(uri).pathname);
        super.open(method, uri);
        reportSubscribed();
    }
};

// 3. CometD with its defaults, configured like GWS's sample.
const cometd = new CometD();
if (transport === "long-polling") {
    cometd.unregisterTransport("websocket");
} else if (transport !== "websocket") {
    fail(`unknown transport ${transport}`);
}
if (flags.includes("--ack")) {
    cometd.registerExtension("ack", new AckExtension());
}
const requestHeaders = csrfHeader && csrfToken ? {[csrfHeader]: csrfToken} : {};
cometd.configure({url: `${base}/api/v2/notifications`, requestHeaders});
cometd.addListener("/meta/unsuccessful", (message) => report("unsuccessful", {message}));

let handshakeExt = null;
cometd.handshake((reply) => {
    if (!reply.successful) fail("handshake refused", {reply});
    handshakeExt = reply.ext ?? null;
    cometd.subscribe(
        "/v2/me/*",
        (message) => report("message", {channel: message.channel, data: message.data}),
        (reply) => {
            if (!reply.successful) fail("subscribe refused", {reply});
            // The subscribe reply can come back before the client's first (timer-delayed)
            // /meta/connect is even sent: the report waits for it, so "paths" shows both.
            subscribed = {transport: cometd.getTransport().type, clientId: cometd.getClientId(), handshakeExt};
            reportSubscribed();
        },
    );
});

// 4. "disconnect" on stdin ends the session politely.
createInterface({input: process.stdin}).on("line", (line) => {
    if (line.trim() !== "disconnect") return;
    cometd.disconnect((reply) => {
        report("disconnected", {successful: reply.successful});
        process.exit(0);
    });
});
