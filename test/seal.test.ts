import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InterlockError } from "../src/errors.ts";
import { newAgeIdentity, seal, unseal } from "../src/masking/seal.ts";

const params = { query: "select * from customers where email = 'jane.doe@example.com'", limit: 10 };

describe("sealing params with age", () => {
  it("round-trips and verifies the salted digest", async () => {
    const { identity, recipient } = await newAgeIdentity();
    const sealed = await seal(params, [recipient]);
    expect(sealed.ciphertext).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(sealed.ciphertext).not.toContain("jane.doe");
    expect(await unseal(sealed, [identity])).toEqual(params);
  });

  it("gives a different digest each time, so a digest cannot be matched to a guess", async () => {
    const { recipient } = await newAgeIdentity();
    const a = await seal(params, [recipient]);
    const b = await seal(params, [recipient]);
    expect(a.digest).not.toBe(b.digest);
  });

  it("is decrypted by Debian's age command-line tool", async () => {
    const { identity, recipient } = await newAgeIdentity();
    const sealed = await seal(params, [recipient]);
    const dir = mkdtempSync(join(tmpdir(), "interlock-age-"));
    writeFileSync(join(dir, "key.txt"), identity + "\n", { mode: 0o600 });
    writeFileSync(join(dir, "sealed.age"), sealed.ciphertext);
    const out = execFileSync(
      "age",
      ["--decrypt", "-i", join(dir, "key.txt"), join(dir, "sealed.age")],
      {
        encoding: "utf8",
      },
    );
    const payload = JSON.parse(out) as { v: number; salt: string; params: unknown };
    expect(payload.params).toEqual(params);
    expect(Buffer.from(payload.salt, "base64")).toHaveLength(16);
  });

  it("opens what the age command-line tool sealed to an Interlock identity", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-age-"));
    execFileSync("age-keygen", ["-o", join(dir, "key.txt")], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", join(dir, "key.txt")], {
      encoding: "utf8",
    }).trim();
    const sealed = await seal(params, [recipient]);
    const identity = execFileSync("grep", ["^AGE-SECRET-KEY", join(dir, "key.txt")], {
      encoding: "utf8",
    }).trim();
    expect(await unseal(sealed, [identity])).toEqual(params);
  });

  it("refuses a wrong identity and a tampered digest", async () => {
    const a = await newAgeIdentity();
    const b = await newAgeIdentity();
    const sealed = await seal(params, [a.recipient]);
    await expect(unseal(sealed, [b.identity])).rejects.toThrow(InterlockError);
    const tampered = {
      ...sealed,
      digest: sealed.digest.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
    };
    await expect(unseal(tampered, [a.identity])).rejects.toThrow(/do not match/);
  });

  it("refuses to seal without recipients or with a malformed one", async () => {
    await expect(seal(params, [])).rejects.toThrow(/no age recipients/);
    await expect(seal(params, ["ssh-ed25519 AAAA"])).rejects.toThrow(/not an age/);
  });
});
