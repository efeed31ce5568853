// The page's script, bundled by esbuild for the browser: guest credentials
// from fedid (another origin, so every call is a CORS request) through
// fromCognitoIdentityPool, shown on the page.
import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";

const config = JSON.parse(document.getElementById("config").textContent);
const status = document.getElementById("status");

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function main() {
  const provider = fromCognitoIdentityPool({
    identityPoolId: config.identityPoolId,
    clientConfig: { region: config.region, endpoint: config.endpoint },
  });
  const creds = await provider();
  show("identity-id", creds.identityId);
  show("access-key-id", creds.accessKeyId);
  show("expiration", creds.expiration.toISOString());
  status.textContent = "Guest credentials received";
  status.dataset.state = "done";
}

main().catch((err) => {
  status.textContent = `Failed: ${err.name}: ${err.message}`;
  status.dataset.state = "failed";
  console.error(err);
});
