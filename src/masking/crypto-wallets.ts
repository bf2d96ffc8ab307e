import { createHash } from "node:crypto";

/**
 * Bitcoin addresses, found only when their checksum holds (so a random word of the same shape
 * is left alone): base58check P2PKH ("1…", version 0x00) and P2SH ("3…", version 0x05), and
 * segwit addresses ("bc1…") in bech32 (witness version 0, BIP 173) or bech32m (versions 1–16,
 * BIP 350).
 */

const BASE58_RE = /(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{24,33}(?![A-Za-z0-9])/g;
const BECH32_RE =
  /(?<![A-Za-z0-9])(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})(?![A-Za-z0-9])/g;

/** Every regex of this module, for the linear-time check (the candidate first). */
export const CRYPTO_WALLET_PATTERNS: readonly [RegExp, RegExp] = [BASE58_RE, BECH32_RE];

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BASE58_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE58.length; i++) BASE58_VALUE[BASE58.charCodeAt(i)] = i;

/** The bytes of a base58 string (big-endian), or undefined. */
function base58Decode(s: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let carry = c < 128 ? (BASE58_VALUE[c] as number) : -1;
    if (carry < 0) return undefined;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] as number) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let i = 0; i < s.length && s[i] === "1"; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

/** A base58check address of version 0x00 or 0x05 whose checksum holds. */
export function validBase58Address(s: string): boolean {
  const bytes = base58Decode(s);
  if (bytes === undefined || bytes.length !== 25 || (bytes[0] !== 0x00 && bytes[0] !== 0x05)) {
    return false;
  }
  const check = sha256(sha256(bytes.subarray(0, 21)));
  for (let i = 0; i < 4; i++) if (check[i] !== bytes[21 + i]) return false;
  return true;
}

const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

/** A "bc1…" address whose bech32 (v0) or bech32m (v1–16) checksum holds. */
export function validBech32Address(address: string): boolean {
  const s = address.toLowerCase();
  if (!s.startsWith("bc1")) return false;
  const hrp = "bc";
  let chk = 1;
  const step = (v: number) => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i] as number;
  };
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >> 5);
  step(0);
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31);
  const data: number[] = [];
  for (let i = 3; i < s.length; i++) {
    const v = BECH32_CHARSET.indexOf(s.charAt(i));
    if (v < 0) return false;
    data.push(v);
    step(v);
  }
  const version = data[0] as number;
  if (version > 16) return false;
  // The program: the 5-bit groups between the version and the 6-symbol checksum, as bytes.
  const programBits = (data.length - 7) * 5;
  const programBytes = Math.floor(programBits / 8);
  if (programBytes < 2 || programBytes > 40) return false;
  if (version === 0 && programBytes !== 20 && programBytes !== 32) return false;
  return chk >>> 0 === (version === 0 ? BECH32_CONST : BECH32M_CONST);
}

export function scanCryptoWallets(text: string, out: number[]): void {
  for (const [re, valid] of [
    [BASE58_RE, validBase58Address],
    [BECH32_RE, validBech32Address],
  ] as const) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (valid(m[0])) out.push(m.index, m.index + m[0].length);
    }
  }
}
