// Run by sdk.test.js in a child process: guest credentials for the pool
// named on the command line, with no endpoint and no region in the code;
// both come from the environment (AWS_ENDPOINT_URL_COGNITO_IDENTITY,
// AWS_REGION). Prints the credentials as JSON.
import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";

const identityPoolId = process.argv[2];
const creds = await fromCognitoIdentityPool({ identityPoolId })();
process.stdout.write(
  JSON.stringify({
    identityId: creds.identityId,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
  }),
);
