// A real OpenID Connect provider for tests/e2e/test_sso.py: panva's oidc-provider with its own
// development sign-in pages (any login name, any password, then a consent screen).
// The login name is the person's email; "unverified:<email>" gives that email with
// email_verified=false, for the test that such a claim is never matched.
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… node oidc.mjs
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

function claimsFor(login) {
  const unverified = login.startsWith('unverified:');
  const email = unverified ? login.slice('unverified:'.length) : login;
  const local = email.split('@')[0].replace(/[._-]+/g, ' ');
  const name = local.replace(/\b\w/g, (c) => c.toUpperCase());
  return { sub: `oidc-${email}`, email, email_verified: !unverified, name };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return claimsFor(id); } };
  },
  features: { devInteractions: { enabled: true } },
  // Put every claim in the ID token too, as Entra ID and Keycloak do for email.
  conformIdTokenClaims: false,
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
