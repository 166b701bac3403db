// Verifies webhook calls with the standardwebhooks npm package (1.1.1),
// a Standard Webhooks reference implementation Doorman did not write.
// Reads [{secret, headers, body}] as JSON on stdin and prints, for each
// call, true if it verifies and else the error's message.
const { Webhook } = require("standardwebhooks");

// verify is how a receiver checks a Doorman webhook call: body is the raw
// request body (a string, not parsed JSON), headers the request's headers.
// It throws unless the call is signed with the secret and recent.
function verify(secret, body, headers) {
  const wh = new Webhook(secret);
  return wh.verify(body, {
    "webhook-id": headers["webhook-id"],
    "webhook-timestamp": headers["webhook-timestamp"],
    "webhook-signature": headers["webhook-signature"],
  });
}

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => {
    try {
      const payload = verify(c.secret, c.body, c.headers);
      return payload.type ? true : "no type in the payload";
    } catch (e) {
      return String(e.message || e);
    }
  });
  process.stdout.write(JSON.stringify(out));
});
