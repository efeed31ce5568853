// The AWS SDK for JavaScript v3 against fedid: the credential providers of
// @aws-sdk/credential-providers for the guest and the developer-
// authenticated flows, and STS GetCallerIdentity with what they give.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateIdentityPoolCommand,
  SetIdentityPoolRolesCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  DescribeIdentityCommand,
  ListIdentitiesCommand,
} from "@aws-sdk/client-cognito-identity";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromCognitoIdentityPool, fromCognitoIdentity } from "@aws-sdk/credential-providers";
import { startFedid, ACCOUNT, IDENTITY_ID, roleUserId, uniqueName } from "./lib/fedid.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const UNAUTH_ROLE = "Cognito_jsUnauth_Role";
const AUTH_ROLE = "Cognito_jsAuth_Role";
const DEVELOPER_PROVIDER = "login.fedid.jstest";

let fedid;
let admin;

before(async () => {
  fedid = await startFedid();
  admin = fedid.admin();
});

after(async () => {
  admin?.destroy();
  await fedid?.stop();
});

async function createPool(input) {
  const pool = await admin.send(new CreateIdentityPoolCommand({ IdentityPoolName: uniqueName("js"), ...input }));
  assert.match(pool.IdentityPoolId, IDENTITY_ID, "pool IDs are region:uuid");
  await admin.send(
    new SetIdentityPoolRolesCommand({
      IdentityPoolId: pool.IdentityPoolId,
      Roles: {
        unauthenticated: `arn:aws:iam::${ACCOUNT}:role/${UNAUTH_ROLE}`,
        authenticated: `arn:aws:iam::${ACCOUNT}:role/${AUTH_ROLE}`,
      },
    }),
  );
  return pool;
}

function assertCredentials(creds) {
  assert.match(creds.accessKeyId, /^ASIA[A-Z0-9]{16}$/, "session access key ID");
  assert.ok(creds.secretAccessKey?.length >= 20, "secret access key");
  assert.ok(creds.sessionToken?.length > 0, "session token");
  assert.ok(creds.expiration instanceof Date, "expiration is a Date");
  const ttl = creds.expiration.getTime() - Date.now();
  assert.ok(ttl > 50 * 60_000 && ttl <= 61 * 60_000, `expires in about an hour, not ${ttl} ms`);
}

async function callerIdentity(credentials) {
  const sts = fedid.sts(credentials);
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

describe("guest (unauthenticated) identities", () => {
  let pool;
  let creds;

  before(async () => {
    pool = await createPool({ AllowUnauthenticatedIdentities: true });
  });

  test("fromCognitoIdentityPool gives guest credentials", async () => {
    const provider = fromCognitoIdentityPool({ identityPoolId: pool.IdentityPoolId, clientConfig: fedid.clientConfig });
    creds = await provider();
    assertCredentials(creds);
    assert.match(creds.identityId, IDENTITY_ID);

    const described = await admin.send(new DescribeIdentityCommand({ IdentityId: creds.identityId }));
    assert.equal(described.IdentityId, creds.identityId);
    assert.equal(described.Logins, undefined, "a guest has no logins");
    const listed = await admin.send(new ListIdentitiesCommand({ IdentityPoolId: pool.IdentityPoolId, MaxResults: 10 }));
    assert.deepEqual(listed.Identities.map((i) => i.IdentityId), [creds.identityId]);

    // A second call of the same provider keeps the identity (the SDK
    // caches the identity ID per pool) and gets fresh credentials.
    const again = await provider();
    assert.equal(again.identityId, creds.identityId);
  });

  test("STS GetCallerIdentity with guest credentials names the unauthenticated role", async () => {
    assert.ok(creds, "needs the guest credentials of the previous test");
    const me = await callerIdentity(creds);
    assert.equal(me.Account, ACCOUNT);
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${UNAUTH_ROLE}/CognitoIdentityCredentials`);
    assert.equal(me.UserId, roleUserId(ACCOUNT, UNAUTH_ROLE));
  });

  test("a pool without unauthenticated identities refuses guests", async () => {
    const closed = await createPool({ AllowUnauthenticatedIdentities: false });
    await assert.rejects(
      fromCognitoIdentityPool({ identityPoolId: closed.IdentityPoolId, clientConfig: fedid.clientConfig })(),
      (err) => err.name === "NotAuthorizedException",
    );
  });

  test("AWS_ENDPOINT_URL_COGNITO_IDENTITY is honoured with no endpoint in code", async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_REGION: fedid.region,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: fedid.endpoint,
      // Nothing from this machine's AWS configuration.
      AWS_CONFIG_FILE: path.join(here, "no-such-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(here, "no-such-aws-credentials"),
    };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(here, "lib", "env-endpoint-guest.js"), pool.IdentityPoolId],
      { env, timeout: 30_000 },
    );
    const got = JSON.parse(stdout);
    assert.match(got.identityId, IDENTITY_ID);
    assert.match(got.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.notEqual(got.identityId, creds?.identityId, "a new process, a new guest identity");

    // The identity was made by this fedid.
    const described = await admin.send(new DescribeIdentityCommand({ IdentityId: got.identityId }));
    assert.equal(described.IdentityId, got.identityId);
    const listed = await admin.send(new ListIdentitiesCommand({ IdentityPoolId: pool.IdentityPoolId, MaxResults: 10 }));
    assert.ok(listed.Identities.some((i) => i.IdentityId === got.identityId), "ListIdentities has it");
    // Its credentials are fedid's.
    const me = await callerIdentity({ accessKeyId: got.accessKeyId, secretAccessKey: got.secretAccessKey, sessionToken: got.sessionToken });
    assert.equal(me.Account, ACCOUNT);
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${UNAUTH_ROLE}/CognitoIdentityCredentials`);
  });
});

describe("developer-authenticated identities", () => {
  let pool;
  let minted;
  let creds;

  before(async () => {
    pool = await createPool({ AllowUnauthenticatedIdentities: false, DeveloperProviderName: DEVELOPER_PROVIDER });
    assert.equal(pool.DeveloperProviderName, DEVELOPER_PROVIDER);
    // The back end, with its own (test/test) credentials.
    minted = await admin.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: pool.IdentityPoolId,
        Logins: { [DEVELOPER_PROVIDER]: "user-42" },
      }),
    );
    assert.match(minted.IdentityId, IDENTITY_ID);
    assert.equal(minted.Token.split(".").length, 3, "the token is a JWT");
  });

  test("fromCognitoIdentity with the back end's token gives credentials", async () => {
    creds = await fromCognitoIdentity({
      identityId: minted.IdentityId,
      logins: { "cognito-identity.amazonaws.com": minted.Token },
      clientConfig: fedid.clientConfig,
    })();
    assertCredentials(creds);
    assert.equal(creds.identityId, minted.IdentityId);

    const described = await admin.send(new DescribeIdentityCommand({ IdentityId: minted.IdentityId }));
    assert.deepEqual(described.Logins, [DEVELOPER_PROVIDER]);
  });

  test("fromCognitoIdentity without the token is refused", async () => {
    await assert.rejects(
      fromCognitoIdentity({ identityId: minted.IdentityId, clientConfig: fedid.clientConfig })(),
      (err) => err.name === "NotAuthorizedException",
    );
  });

  test("fromCognitoIdentityPool with a Cognito token fails: the token is not for GetId", async () => {
    // As the real service: GetId takes the logins of identity providers,
    // and cognito-identity.amazonaws.com is not one. A developer token is
    // for fromCognitoIdentity with the identity ID that came with it.
    await assert.rejects(
      fromCognitoIdentityPool({
        identityPoolId: pool.IdentityPoolId,
        logins: { "cognito-identity.amazonaws.com": minted.Token },
        clientConfig: fedid.clientConfig,
      })(),
      (err) => {
        assert.equal(err.name, "NotAuthorizedException");
        return true;
      },
    );
  });

  test("STS GetCallerIdentity with developer credentials names the authenticated role", async () => {
    assert.ok(creds, "needs the credentials of the first test");
    const me = await callerIdentity(creds);
    assert.equal(me.Account, ACCOUNT);
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${AUTH_ROLE}/CognitoIdentityCredentials`);
    assert.equal(me.UserId, roleUserId(ACCOUNT, AUTH_ROLE));
    assert.notEqual(me.UserId, roleUserId(ACCOUNT, UNAUTH_ROLE));
  });

  test("STS GetCallerIdentity with test/test names the account root", async () => {
    const me = await callerIdentity({ accessKeyId: "test", secretAccessKey: "test" });
    assert.equal(me.Account, ACCOUNT);
    assert.equal(me.UserId, ACCOUNT);
    assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT}:root`);
  });
});
