// Passkey unlock glue: WebAuthn with the PRF extension. Returns raw bytes; Rust does the rest.
function random32() {
  return crypto.getRandomValues(new Uint8Array(32));
}

export function passkeysSupported() {
  return !!(globalThis.PublicKeyCredential && navigator.credentials && navigator.credentials.create);
}

// Asks the passkey for its PRF output for `salt`.
export async function evaluate(id, salt) {
  const assertion = await navigator.credentials.get({
    publicKey: {
      challenge: random32(),
      allowCredentials: [{ type: "public-key", id }],
      userVerification: "required",
      extensions: { prf: { eval: { first: salt } } },
    },
  });
  const prf = assertion.getClientExtensionResults().prf;
  if (!prf || !prf.results || !prf.results.first) {
    throw new Error("this passkey gave no PRF output, so it cannot unlock a wallet");
  }
  return new Uint8Array(prf.results.first);
}

// Creates a passkey with PRF and returns [credential id, PRF output for `salt`].
export async function create(salt) {
  const cred = await navigator.credentials.create({
    publicKey: {
      rp: { name: "Flash" },
      user: { id: random32(), name: "Flash wallet", displayName: "Flash wallet" },
      challenge: random32(),
      pubKeyCredParams: [
        { type: "public-key", alg: -7 },
        { type: "public-key", alg: -257 },
      ],
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      extensions: { prf: { eval: { first: salt } } },
    },
  });
  const prf = cred.getClientExtensionResults().prf;
  if (!prf || prf.enabled === false) {
    throw new Error("this passkey or browser does not support the PRF extension");
  }
  const id = new Uint8Array(cred.rawId);
  const first = prf.results && prf.results.first;
  return [id, first ? new Uint8Array(first) : await evaluate(id, salt)];
}
