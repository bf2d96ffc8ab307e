import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fingerprint,
  formatAllowedSigners,
  parseAllowedSigners,
  parseSshPrivateKey,
  splitSignedTag,
  verifySshSignature,
  type AllowedSigner,
  type SshsigResult,
} from "../src/forge/local/sshsig.ts";
import { Git } from "../src/forge/local/git.ts";
import { signReviewTag } from "../src/forge/local/reviews.ts";
import { tempDir } from "./helpers.ts";

/**
 * Every verdict here is cross-checked against the real tools: `ssh-keygen -Y sign/verify` for
 * signatures and `git tag -s` / `git verify-tag` (gpg.format=ssh) for approval tags. No mocks.
 */

const dir = tempDir("interlock-sshsig-");
/** Keep the user's and the system's git and ssh configuration out of every run. */
const ENV = {
  ...process.env,
  HOME: dir,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  LC_ALL: "C",
};

let counter = 0;
function scratch(name: string): string {
  return join(dir, `${++counter}-${name}`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string | Buffer } = {}) {
  // stdin comes from a file, not a pipe: a tool that exits before reading it (ssh-keygen on a
  // malformed signature) must not turn into an EPIPE here.
  const stdin = scratch("stdin");
  writeFileSync(stdin, opts.input ?? "");
  const fd = openSync(stdin, "r");
  try {
    const res = spawnSync(cmd, args, {
      env: ENV,
      cwd: opts.cwd ?? dir,
      stdio: [fd, "pipe", "pipe"],
    });
    if (res.error) throw res.error;
    return { status: res.status, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
  } finally {
    closeSync(fd);
  }
}

function mustRun(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string | Buffer } = {},
) {
  const res = run(cmd, args, opts);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}

interface Key {
  readonly path: string;
  /** The .pub line: "keytype base64 comment". */
  readonly pub: string;
}

function keygen(name: string, type: string, bits?: number): Key {
  const path = join(dir, name);
  const size = bits === undefined ? [] : ["-b", String(bits)];
  mustRun("ssh-keygen", ["-q", "-t", type, ...size, "-N", "", "-C", "test", "-f", path]);
  return { path, pub: readFileSync(`${path}.pub`, "utf8").trim() };
}

/** `ssh-keygen -Y sign -f key -n namespace file`, returning the armored signature. */
function sshSign(key: Key, namespace: string, message: string | Buffer, hashalg?: string): string {
  const file = scratch("message");
  writeFileSync(file, message);
  const opts = hashalg === undefined ? [] : ["-O", `hashalg=${hashalg}`];
  mustRun("ssh-keygen", ["-q", "-Y", "sign", "-f", key.path, "-n", namespace, ...opts, file]);
  return readFileSync(`${file}.sig`, "utf8");
}

/** `ssh-keygen -Y verify`: true when it exits 0. */
function sshVerify(
  armored: string,
  message: string | Buffer,
  namespace: string,
  principal: string,
  allowedSigners: string,
): boolean {
  const sig = scratch("sig");
  const allowed = scratch("allowed_signers");
  writeFileSync(sig, armored);
  writeFileSync(allowed, allowedSigners);
  const args = ["-Y", "verify", "-f", allowed, "-I", principal, "-n", namespace, "-s", sig];
  return run("ssh-keygen", args, { input: message }).status === 0;
}

/** Verifies in-process and with ssh-keygen, requires the two to agree, returns ours. */
function crossCheck(
  armored: string,
  message: string | Buffer,
  namespace: string,
  principal: string,
  allowedSigners: string,
): SshsigResult {
  const allowed = parseAllowedSigners(allowedSigners);
  const ours = verifySshSignature(armored, message, namespace, principal, allowed);
  const theirs = sshVerify(armored, message, namespace, principal, allowedSigners);
  expect(ours.ok, `in-process: ${ours.ok ? "ok" : ours.reason}; ssh-keygen ok: ${theirs}`).toBe(
    theirs,
  );
  return ours;
}

function reasonOf(result: SshsigResult): string {
  expect(result.ok).toBe(false);
  return result.ok ? "" : result.reason;
}

// --- A small SSHSIG blob editor, to build malformed signatures from real ones ----------------

interface Blob {
  magic: Buffer;
  version: number;
  publicKey: Buffer;
  namespace: Buffer;
  reserved: Buffer;
  hashAlgorithm: Buffer;
  signature: Buffer;
}

function unarmor(armored: string): Buffer {
  const body = armored
    .replace("-----BEGIN SSH SIGNATURE-----", "")
    .replace("-----END SSH SIGNATURE-----", "");
  return Buffer.from(body.replace(/\s/g, ""), "base64");
}

function armor(blob: Buffer): string {
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join("\n")}\n-----END SSH SIGNATURE-----\n`;
}

function decode(blob: Buffer): Blob {
  let at = 10;
  const next = (): Buffer => {
    const length = blob.readUInt32BE(at);
    const value = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  return {
    magic: blob.subarray(0, 6),
    version: blob.readUInt32BE(6),
    publicKey: next(),
    namespace: next(),
    reserved: next(),
    hashAlgorithm: next(),
    signature: next(),
  };
}

function encode(b: Blob): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(b.version);
  return Buffer.concat([
    b.magic,
    version,
    sshString(b.publicKey),
    sshString(b.namespace),
    sshString(b.reserved),
    sshString(b.hashAlgorithm),
    sshString(b.signature),
  ]);
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Re-armors a real signature after `edit` changed its decoded fields. */
function edited(armored: string, edit: (b: Blob) => void): string {
  const b = decode(unarmor(armored));
  edit(b);
  return armor(encode(b));
}

// ---------------------------------------------------------------------------------------------

let dana: Key;
let other: Key;
const MESSAGE = '{"state":"approved","request":"r-42"}\n';

beforeAll(() => {
  dana = keygen("dana", "ed25519");
  other = keygen("other", "ed25519");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const danaLine = (): string => `dana@example.test ${dana.pub}\n`;

describe("verifySshSignature against ssh-keygen -Y sign/verify", () => {
  const KEY_TYPES: [string, string, number | undefined][] = [
    ["ed25519", "ed25519", undefined],
    ["ecdsa-p256", "ecdsa", 256],
    ["ecdsa-p384", "ecdsa", 384],
    ["ecdsa-p521", "ecdsa", 521],
    ["rsa-2048", "rsa", 2048],
  ];

  for (const [label, type, bits] of KEY_TYPES) {
    for (const hashalg of ["sha512", "sha256"]) {
      it(`${label} with ${hashalg}: verifies, and a one-byte change in the message does not`, () => {
        const key = keygen(`key-${label}-${hashalg}`, type, bits);
        const allowed = `dana@example.test ${key.pub}\n`;
        const armored = sshSign(key, "git", MESSAGE, hashalg);

        const ok = crossCheck(armored, MESSAGE, "git", "dana@example.test", allowed);
        expect(ok).toEqual({
          ok: true,
          principal: "dana@example.test",
          fingerprint: fingerprint(key.pub),
        });

        const flipped = Buffer.from(MESSAGE);
        flipped[3] = (flipped[3] ?? 0) ^ 0x01;
        const bad = crossCheck(armored, flipped, "git", "dana@example.test", allowed);
        expect(reasonOf(bad)).toMatch(/does not verify/);
      });
    }
  }

  it("accepts the message as bytes or as a string", () => {
    const armored = sshSign(dana, "git", "héllo");
    const allowed = parseAllowedSigners(danaLine());
    const asBytes = new TextEncoder().encode("héllo");
    expect(verifySshSignature(armored, asBytes, "git", "dana@example.test", allowed).ok).toBe(true);
    expect(verifySshSignature(armored, "héllo", "git", "dana@example.test", allowed).ok).toBe(true);
  });

  it("rejects a signature made for another namespace", () => {
    const armored = sshSign(dana, "file", MESSAGE);
    const result = crossCheck(armored, MESSAGE, "git", "dana@example.test", danaLine());
    expect(reasonOf(result)).toBe('signature is for namespace "file", expected "git"');
  });

  it("rejects a different key claiming the same principal", () => {
    const armored = sshSign(other, "git", MESSAGE);
    const result = crossCheck(armored, MESSAGE, "git", "dana@example.test", danaLine());
    expect(reasonOf(result)).toBe(
      `signed by ${fingerprint(other.pub)} which is not an allowed key for dana@example.test`,
    );
  });

  it("accepts any of several keys listed for the principal", () => {
    const allowed = `dana@example.test ${other.pub}\n${danaLine()}`;
    const armored = sshSign(dana, "git", MESSAGE);
    const result = crossCheck(armored, MESSAGE, "git", "dana@example.test", allowed);
    expect(result).toMatchObject({ ok: true, fingerprint: fingerprint(dana.pub) });
  });

  it("rejects a principal that is not in the allowed list", () => {
    const armored = sshSign(dana, "git", MESSAGE);
    const result = crossCheck(armored, MESSAGE, "git", "eve@example.test", danaLine());
    expect(reasonOf(result)).toBe(
      `signed by ${fingerprint(dana.pub)}, but no allowed signer is listed for eve@example.test`,
    );
  });

  it('honours namespaces="…" restrictions, including several lines for one key', () => {
    const armored = sshSign(dana, "git", MESSAGE);
    const onlyFile = `dana@example.test namespaces="file,ssh*" ${dana.pub}\n`;
    const rejected = crossCheck(armored, MESSAGE, "git", "dana@example.test", onlyFile);
    expect(reasonOf(rejected)).toBe(
      `key ${fingerprint(dana.pub)} is allowed for dana@example.test only in namespaces "file,ssh*", not in "git"`,
    );
    const gitToo = `dana@example.test namespaces="file,g?t" ${dana.pub}\n`;
    expect(crossCheck(armored, MESSAGE, "git", "dana@example.test", gitToo).ok).toBe(true);
    const none = `dana@example.test namespaces="" ${dana.pub}\n`;
    expect(parseAllowedSigners(none)[0]?.namespaces).toEqual([]);
    expect(formatAllowedSigners(parseAllowedSigners(none))).toBe(none);
    expect(crossCheck(armored, MESSAGE, "git", "dana@example.test", none).ok).toBe(false);
    const secondLine = `${onlyFile}dana@example.test namespaces="git" ${dana.pub}\n`;
    expect(crossCheck(armored, MESSAGE, "git", "dana@example.test", secondLine).ok).toBe(true);
  });

  it("matches principals as ssh-keygen patterns, negation included", () => {
    const armored = sshSign(dana, "git", MESSAGE);
    const allowed = `*@example.test,!eve@example.test ${dana.pub}\n`;
    expect(crossCheck(armored, MESSAGE, "git", "dana@example.test", allowed).ok).toBe(true);
    expect(crossCheck(armored, MESSAGE, "git", "eve@example.test", allowed).ok).toBe(false);
    expect(crossCheck(armored, MESSAGE, "git", "dana@example.org", allowed).ok).toBe(false);
    // A quoted principals field is read without its quotes.
    const quoted = `"dana@example.test,ci bot" ${dana.pub}\n`;
    expect(crossCheck(armored, MESSAGE, "git", "ci bot", quoted).ok).toBe(true);
  });

  describe("malformed signatures", () => {
    let armored: string;
    beforeAll(() => {
      armored = sshSign(dana, "git", MESSAGE);
    });
    const check = (sig: string): string =>
      reasonOf(crossCheck(sig, MESSAGE, "git", "dana@example.test", danaLine()));

    it("bad magic", () => {
      const sig = edited(armored, (b) => (b.magic = Buffer.from("SSHSIH")));
      expect(check(sig)).toBe('signature blob does not start with the "SSHSIG" magic preamble');
    });

    it("unsupported version", () => {
      const sig = edited(armored, (b) => (b.version = 2));
      expect(check(sig)).toBe("signature version 2 is not supported (expected 1)");
    });

    it("unknown hash algorithm", () => {
      const sig = edited(armored, (b) => (b.hashAlgorithm = Buffer.from("sha1")));
      expect(check(sig)).toBe(
        'signature uses unsupported hash algorithm "sha1" (allowed: sha256, sha512)',
      );
    });

    it("hash algorithm swapped for the other allowed one", () => {
      const sig = edited(armored, (b) => (b.hashAlgorithm = Buffer.from("sha256")));
      expect(check(sig)).toMatch(/does not verify/);
    });

    it("truncated blob", () => {
      const blob = unarmor(armored);
      expect(check(armor(blob.subarray(0, blob.length - 5)))).toBe(
        "signature blob is truncated (while reading signature)",
      );
      expect(check(armor(blob.subarray(0, 12)))).toBe(
        "signature blob is truncated (while reading public key)",
      );
    });

    it("trailing garbage after the blob", () => {
      const sig = armor(Buffer.concat([unarmor(armored), Buffer.from([0, 0, 0, 0])]));
      expect(check(sig)).toBe("signature blob has 4 bytes of trailing data");
    });

    it("trailing garbage inside the signature field", () => {
      const sig = edited(
        armored,
        (b) => (b.signature = Buffer.concat([b.signature, Buffer.of(7)])),
      );
      expect(check(sig)).toBe("signature has 1 bytes of trailing data");
    });

    it("signature type that does not match the key", () => {
      const sig = edited(armored, (b) => {
        const bytes = b.signature.subarray(4 + 11); // string "ssh-ed25519", then the bytes
        const type = Buffer.from("ssh-ed448");
        const length = Buffer.alloc(4);
        length.writeUInt32BE(type.length);
        b.signature = Buffer.concat([length, type, bytes]);
      });
      expect(check(sig)).toMatch(/^signature type "ssh-ed448" is not allowed for this key/);
    });

    it("not armored, or armored with invalid base64", () => {
      expect(check("")).toMatch(/^signature is not an armored SSH signature/);
      expect(check(` ${armored}`)).toMatch(/^signature is not an armored SSH signature/);
      expect(check(armored.replace("-----END SSH SIGNATURE-----", ""))).toMatch(/no "-----END/);
      expect(check(armored.replace("U1NIU0lH", "U1NIU0l!"))).toBe(
        "armored SSH signature is not valid base64",
      );
    });

    it("a non-empty reserved field is ignored, as PROTOCOL.sshsig and ssh-keygen do", () => {
      const sig = edited(armored, (b) => (b.reserved = Buffer.from("future")));
      expect(crossCheck(sig, MESSAGE, "git", "dana@example.test", danaLine()).ok).toBe(true);
    });

    it("agrees with ssh-keygen on every single-byte corruption of the blob", () => {
      const blob = unarmor(armored);
      for (let i = 0; i < blob.length; i++) {
        const corrupt = Buffer.from(blob);
        corrupt[i] = (corrupt[i] ?? 0) ^ 0x55;
        const result = crossCheck(armor(corrupt), MESSAGE, "git", "dana@example.test", danaLine());
        expect(result.ok, `byte ${i}`).toBe(false);
      }
    });
  });

  it("reports an unusable allowed key instead of throwing", () => {
    const armored = sshSign(dana, "git", MESSAGE);
    const broken: AllowedSigner[] = [{ principal: "dana@example.test", publicKey: "ssh-ed25519" }];
    const result = verifySshSignature(armored, MESSAGE, "git", "dana@example.test", broken);
    expect(reasonOf(result)).toMatch(/^the allowed signer for dana@example.test has an unreadable/);
  });

  it("is deliberately stricter than ssh-keygen in two places no signer needs", () => {
    const armored = sshSign(dana, "git", MESSAGE);
    const allowed = parseAllowedSigners(danaLine());
    const verdicts = (sig: string) => ({
      ours: verifySshSignature(sig, MESSAGE, "git", "dana@example.test", allowed).ok,
      sshKeygen: sshVerify(sig, MESSAGE, "git", "dana@example.test", danaLine()),
    });
    // ssh-keygen accepts any version up to 1, including 0.
    expect(verdicts(edited(armored, (b) => (b.version = 0)))).toEqual({
      ours: false,
      sshKeygen: true,
    });
    // ssh-keygen ignores whatever follows the END line.
    expect(verdicts(`${armored}trailing text\n`)).toEqual({ ours: false, sshKeygen: true });
  });

  describe("RSA signature algorithms (signed here with node:crypto, checked by ssh-keygen)", () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = publicKey.export({ format: "jwk" });
    const mpint = (b64: string | undefined): Buffer => {
      const bytes = Buffer.from(b64 ?? "", "base64url");
      return (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
    };
    const blob = Buffer.concat([
      sshString("ssh-rsa"),
      sshString(mpint(jwk.e)),
      sshString(mpint(jwk.n)),
    ]);
    const pub = `ssh-rsa ${blob.toString("base64")} node`;
    const allowed = `dana@example.test ${pub}\n`;

    /** An SSHSIG made by hand, per PROTOCOL.sshsig, with the given RSA signature algorithm. */
    const signWith = (sigType: string, digest: string): string => {
      const hashed = createHash("sha512").update(MESSAGE).digest();
      const signed = Buffer.concat([
        Buffer.from("SSHSIG"),
        sshString("git"),
        sshString(""),
        sshString("sha512"),
        sshString(hashed),
      ]);
      const raw = sign(digest, signed, privateKey);
      return armor(
        encode({
          magic: Buffer.from("SSHSIG"),
          version: 1,
          publicKey: blob,
          namespace: Buffer.from("git"),
          reserved: Buffer.alloc(0),
          hashAlgorithm: Buffer.from("sha512"),
          signature: Buffer.concat([sshString(sigType), sshString(raw)]),
        }),
      );
    };

    it("accepts rsa-sha2-256 and rsa-sha2-512", () => {
      expect(fingerprint(pub)).toMatch(/^SHA256:/);
      for (const [sigType, digest] of [
        ["rsa-sha2-256", "sha256"],
        ["rsa-sha2-512", "sha512"],
      ] as const) {
        const result = crossCheck(
          signWith(sigType, digest),
          MESSAGE,
          "git",
          "dana@example.test",
          allowed,
        );
        expect(result.ok, sigType).toBe(true);
      }
    });

    it("rejects ssh-rsa (SHA-1) and a signature type that names the wrong hash", () => {
      const sha1 = crossCheck(
        signWith("ssh-rsa", "sha1"),
        MESSAGE,
        "git",
        "dana@example.test",
        allowed,
      );
      expect(reasonOf(sha1)).toMatch(/^signature type "ssh-rsa" is not allowed for this key/);
      const mislabelled = signWith("rsa-sha2-256", "sha512");
      const result = crossCheck(mislabelled, MESSAGE, "git", "dana@example.test", allowed);
      expect(reasonOf(result)).toMatch(/does not verify/);
    });
  });
});

describe("parseSshPrivateKey: signing in-process, as ssh-keygen -Y sign does", () => {
  const KEY_TYPES: [string, string, number | undefined][] = [
    ["ed25519", "ed25519", undefined],
    ["ecdsa-p256", "ecdsa", 256],
    ["ecdsa-p384", "ecdsa", 384],
    ["ecdsa-p521", "ecdsa", 521],
    ["rsa-2048", "rsa", 2048],
  ];
  for (const [label, type, bits] of KEY_TYPES) {
    it(`${label}: ssh-keygen -Y verify and verifySshSignature accept the signature`, () => {
      const key = keygen(`signing-${label}`, type, bits);
      const signer = parseSshPrivateKey(readFileSync(key.path, "utf8"), key.path);
      expect(signer.publicKey).toBe(key.pub.split(" ").slice(0, 2).join(" "));
      const allowed = `dana@example.test ${key.pub}\n`;
      const armored = signer.sign(MESSAGE, "git");
      expect(crossCheck(armored, MESSAGE, "git", "dana@example.test", allowed).ok).toBe(true);
      expect(crossCheck(armored, `${MESSAGE}x`, "git", "dana@example.test", allowed).ok).toBe(
        false,
      );
      expect(crossCheck(armored, MESSAGE, "file", "dana@example.test", allowed).ok).toBe(false);
    });
  }

  it("makes byte for byte the signature ssh-keygen makes with an ed25519 key", () => {
    const signer = parseSshPrivateKey(readFileSync(dana.path, "utf8"), dana.path);
    expect(signer.sign(MESSAGE, "git")).toBe(sshSign(dana, "git", MESSAGE));
  });

  it("refuses, with a reason, a key it cannot use", () => {
    const encrypted = join(dir, "encrypted");
    mustRun("ssh-keygen", ["-q", "-t", "ed25519", "-N", "a passphrase", "-f", encrypted]);
    expect(() => parseSshPrivateKey(readFileSync(encrypted, "utf8"), encrypted)).toThrow(
      /encrypted with a passphrase/,
    );
    expect(() => parseSshPrivateKey(dana.pub, "dana.pub")).toThrow(/not an OpenSSH private key/);
    // A file whose private half belongs to another key than the public key it names (the
    // public key blob ends at byte 94 of an ed25519 openssh-key-v1 body).
    const a = readFileSync(dana.path, "utf8");
    const b = readFileSync(other.path, "utf8");
    const body = (t: string) => Buffer.from(t.split("\n").slice(1, -2).join(""), "base64");
    const mixed = Buffer.concat([body(b).subarray(0, 94), body(a).subarray(94)]);
    const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${mixed.toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(() => parseSshPrivateKey(pem, "mixed")).toThrow(/does not match its public key/);
  });
});

describe("signed git tags (gpg.format=ssh)", () => {
  let repo: string;
  let allowedFile: string;
  const git = (...args: string[]): string => mustRun("git", args, { cwd: repo });
  const identity = ["-c", "user.name=Dana", "-c", "user.email=dana@example.test"];

  beforeAll(() => {
    repo = join(dir, "repo");
    mustRun("git", ["init", "-q", repo]);
    git(...identity, "commit", "-q", "--allow-empty", "-m", "proposal");
    const signing = ["-c", "gpg.format=ssh", "-c", `user.signingkey=${dana.path}`];
    git(...identity, ...signing, "tag", "-s", "review-1", "-m", '{"state":"approved"}', "HEAD");
    allowedFile = join(dir, "tags_allowed_signers");
    writeFileSync(
      allowedFile,
      formatAllowedSigners([
        { principal: "dana@example.test", publicKey: dana.pub, namespaces: ["git"] },
      ]),
    );
  });

  const gitVerifyTag = (name: string): boolean =>
    run("git", ["-c", `gpg.ssh.allowedSignersFile=${allowedFile}`, "verify-tag", name], {
      cwd: repo,
    }).status === 0;

  const verifyTagInProcess = (raw: string): SshsigResult => {
    const signed = splitSignedTag(raw);
    if (signed === undefined) throw new Error("tag is not signed");
    const allowed = parseAllowedSigners(readFileSync(allowedFile, "utf8"));
    return verifySshSignature(
      signed.signature,
      signed.payload,
      "git",
      "dana@example.test",
      allowed,
    );
  };

  it("splits a tag made by git tag -s and verifies it, as git verify-tag does", () => {
    const raw = git("cat-file", "tag", "review-1");
    const signed = splitSignedTag(raw);
    expect(signed).toBeDefined();
    const payload = Buffer.from(signed?.payload ?? []).toString("utf8");
    expect(payload).toMatch(/^object [0-9a-f]{40}\ntype commit\ntag review-1\ntagger Dana/);
    expect(payload.endsWith('\n\n{"state":"approved"}\n')).toBe(true);
    expect(signed?.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----\n[\s\S]*-----END SSH/);

    expect(verifyTagInProcess(raw)).toEqual({
      ok: true,
      principal: "dana@example.test",
      fingerprint: fingerprint(dana.pub),
    });
    expect(gitVerifyTag("review-1")).toBe(true);
    // The payload is the same bytes whether the tag is given as text or bytes.
    const fromBytes = splitSignedTag(Buffer.from(raw));
    expect(Buffer.from(fromBytes?.payload ?? []).equals(Buffer.from(signed?.payload ?? []))).toBe(
      true,
    );
  });

  it("rejects a tag whose message was altered under the original signature", () => {
    const raw = git("cat-file", "tag", "review-1");
    const forged = raw.replace('{"state":"approved"}', '{"state":"rejected"}');
    expect(forged).not.toBe(raw);
    const id = mustRun("git", ["mktag"], { cwd: repo, input: forged }).trim();

    expect(reasonOf(verifyTagInProcess(git("cat-file", "tag", id)))).toMatch(/does not verify/);
    expect(gitVerifyTag(id)).toBe(false);
  });

  it("rejects a tag signed by a key that is not allowed, as git verify-tag does", () => {
    const signing = ["-c", "gpg.format=ssh", "-c", `user.signingkey=${other.path}`];
    git(...identity, ...signing, "tag", "-s", "review-2", "-m", '{"state":"approved"}', "HEAD");
    const result = verifyTagInProcess(git("cat-file", "tag", "review-2"));
    expect(reasonOf(result)).toMatch(/which is not an allowed key for dana@example.test$/);
    expect(gitVerifyTag("review-2")).toBe(false);
  });

  it("signReviewTag writes a tag that plain git tag -v and the in-process check accept", async () => {
    const target = git("rev-parse", "HEAD").trim();
    await signReviewTag(new Git(repo), {
      name: "review-in-process",
      target,
      message: "interlock review: approved\n\nstate: approved  \n\n\nnote",
      tagger: { name: "Dana", email: "dana@example.test" },
      keyFile: dana.path,
      date: new Date("2026-11-24T10:00:00Z"),
    });
    const raw = git("cat-file", "tag", "review-in-process");
    expect(raw).toMatch(/^object [0-9a-f]{40}\ntype commit\ntag review-in-process\ntagger Dana/);
    expect(splitSignedTag(raw)?.payload.toString()).toMatch(/\n\nstate: approved\n\nnote\n$/);
    expect(verifyTagInProcess(raw).ok).toBe(true);
    expect(gitVerifyTag("review-in-process")).toBe(true);
    // The same name again never overwrites the first review.
    await expect(
      signReviewTag(new Git(repo), {
        name: "review-in-process",
        target,
        message: "interlock review: changes_requested",
        tagger: { name: "Dana", email: "dana@example.test" },
        keyFile: dana.path,
        date: new Date("2026-11-24T10:00:01Z"),
      }),
    ).rejects.toThrow(/exists already/);
    expect(git("cat-file", "tag", "review-in-process")).toBe(raw);
  });

  it("finds no signature in an unsigned tag", () => {
    git(...identity, "tag", "-a", "plain", "-m", "not signed", "HEAD");
    expect(splitSignedTag(git("cat-file", "tag", "plain"))).toBeUndefined();
  });

  it("takes the last armor line as the start of the signature, like git", () => {
    const raw = "object x\n\nquoted:\n-----BEGIN SSH SIGNATURE-----\nnot this\n";
    const sig = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";
    const signed = splitSignedTag(raw + sig);
    expect(Buffer.from(signed?.payload ?? []).toString()).toBe(raw);
    expect(signed?.signature).toBe(sig);
  });
});

describe("allowed signers files", () => {
  it("parses principals, options, comments and blank lines, and formats them back", () => {
    const text = [
      "# Interlock approvers",
      "",
      `dana@example.test ${dana.pub}`,
      `   ops@example.test,sre@example.test NAMESPACES="git,file" ${other.pub}\r`,
      "\t# indented comment",
      `"ci bot" namespaces="g\\"it" ${dana.pub.replace(" test", " a longer comment")}`,
      "",
    ].join("\n");
    const signers = parseAllowedSigners(text);
    expect(signers).toEqual([
      { principal: "dana@example.test", publicKey: dana.pub },
      {
        principal: "ops@example.test,sre@example.test",
        publicKey: other.pub,
        namespaces: ["git", "file"],
      },
      {
        principal: "ci bot",
        publicKey: dana.pub.replace(" test", " a longer comment"),
        namespaces: ['g"it'],
      },
    ]);
    // The middle signer survives a round trip; the third's namespace cannot be written.
    const writable = signers.slice(0, 2);
    expect(parseAllowedSigners(formatAllowedSigners(writable))).toEqual(writable);
    expect(formatAllowedSigners(writable)).toBe(
      `dana@example.test ${dana.pub}\n` +
        `ops@example.test,sre@example.test namespaces="git,file" ${other.pub}\n`,
    );
    expect(() => formatAllowedSigners(signers)).toThrow(/namespace "g\\"it" cannot be written/);
  });

  it("quotes principals that need it, and ssh-keygen reads the result", () => {
    const signers: AllowedSigner[] = [
      { principal: "ci bot", publicKey: dana.pub, namespaces: ["git"] },
    ];
    const text = formatAllowedSigners(signers);
    expect(text).toBe(`"ci bot" namespaces="git" ${dana.pub}\n`);
    expect(parseAllowedSigners(text)).toEqual(signers);
    const armored = sshSign(dana, "git", MESSAGE);
    expect(crossCheck(armored, MESSAGE, "git", "ci bot", text).ok).toBe(true);
  });

  it("refuses lines it cannot read or options it cannot honour, naming the line", () => {
    const bad = (line: string): string => {
      try {
        parseAllowedSigners(`# ok\n${line}\n`);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`accepted: ${line}`);
    };
    expect(bad(`dana@example.test cert-authority ${dana.pub}`)).toBe(
      'allowed signers: line 2: option "cert-authority" is not supported by in-process verification',
    );
    expect(bad(`dana@example.test valid-before="20300101" ${dana.pub}`)).toMatch(
      /option "valid-before" is not supported/,
    );
    expect(bad(`dana@example.test restrict ${dana.pub}`)).toMatch(/unknown option/);
    expect(bad("dana@example.test")).toBe("allowed signers: line 2: missing key");
    expect(bad("dana@example.test ssh-ed25519 AAAA!")).toMatch(/line 2: /);
    const swapped = dana.pub.replace("ssh-ed25519", "ecdsa-sha2-nistp256");
    expect(bad(`dana@example.test ${swapped}`)).toMatch(/line 2: /);
  });

  it("refuses to format a signer that would read back as something else", () => {
    const signer = (over: Partial<AllowedSigner>): AllowedSigner[] => [
      { principal: "dana@example.test", publicKey: dana.pub, ...over },
    ];
    expect(() => formatAllowedSigners(signer({ principal: "a\nb" }))).toThrow(/line breaks/);
    expect(() =>
      formatAllowedSigners(signer({ publicKey: `${dana.pub}\n* ${other.pub}` })),
    ).toThrow(/line breaks/);
    expect(() => formatAllowedSigners(signer({ principal: 'x"y' }))).toThrow(/double quote/);
    expect(() => formatAllowedSigners(signer({ publicKey: "ssh-ed25519 xyz" }))).toThrow(
      /invalid public key/,
    );
    expect(() => formatAllowedSigners(signer({ namespaces: ["a,b"] }))).toThrow(/cannot be/);
  });
});

describe("fingerprint", () => {
  it("equals the SHA256 field of ssh-keygen -lf for every key type", () => {
    const keys = [dana, keygen("fp-ecdsa", "ecdsa", 384), keygen("fp-rsa", "rsa", 2048)];
    for (const key of keys) {
      const listed = mustRun("ssh-keygen", ["-lf", `${key.path}.pub`]).split(" ")[1];
      expect(fingerprint(key.pub)).toBe(listed);
    }
  });

  it("rejects a malformed key", () => {
    expect(() => fingerprint("ssh-ed25519")).toThrow(/invalid SSH public key/);
  });
});

describe("throughput sanity", () => {
  it("verifies 10,000 signatures in-process", () => {
    const messages = Array.from({ length: 8 }, (_, i) => `{"state":"approved","n":${i}}`);
    const signatures = messages.map((m) => sshSign(dana, "git", m));
    const allowed = parseAllowedSigners(danaLine());
    let verified = 0;
    for (let i = 0; i < 10_000; i++) {
      const n = i % messages.length;
      const result = verifySshSignature(
        signatures[n] ?? "",
        messages[n] ?? "",
        "git",
        "dana@example.test",
        allowed,
      );
      if (result.ok) verified++;
    }
    expect(verified).toBe(10_000);
  });
});
