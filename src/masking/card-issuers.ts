/**
 * Issuer identification number (IIN) ranges of the card brands in use, with the lengths each
 * brand issues. A Luhn-valid number is a payment card only if its prefix falls in one of these
 * ranges and its length is one the brand uses; any 13-digit number passes Luhn one time in ten.
 *
 * Sources: the brands' published IIN ranges as collected in ISO/IEC 7812 summaries.
 */

/** [first prefix, last prefix (same number of digits), lengths]. */
type IinRange = readonly [from: string, to: string, lengths: readonly number[]];

const SIXTEEN_TO_19 = [16, 17, 18, 19];

export const IIN_RANGES: readonly IinRange[] = [
  // Visa: 16 or 19 digits. The 13-digit PANs were withdrawn long ago, and any 13-digit number
  // starting with 4 (an order or invoice number) passes Luhn one time in ten.
  ["4", "4", [16, 19]],
  ["51", "55", [16]], // Mastercard
  ["2221", "2720", [16]], // Mastercard 2-series
  ["34", "34", [15]], // American Express
  ["37", "37", [15]],
  ["300", "305", [14, 16, 17, 18, 19]], // Diners Club
  ["3095", "3095", [14, 16, 17, 18, 19]],
  ["36", "36", [14, 16, 17, 18, 19]],
  ["38", "39", [14, 16, 17, 18, 19]],
  ["3528", "3589", SIXTEEN_TO_19], // JCB
  ["6011", "6011", SIXTEEN_TO_19], // Discover
  ["644", "649", SIXTEEN_TO_19],
  ["65", "65", SIXTEEN_TO_19], // Discover, RuPay
  ["622126", "622925", SIXTEEN_TO_19], // Discover / China UnionPay co-branded
  ["62", "62", SIXTEEN_TO_19], // China UnionPay
  ["81", "82", [16]], // China UnionPay / RuPay
  ["60", "60", [16]], // RuPay
  ["508", "508", [16]], // RuPay
  ["353", "353", [16]], // RuPay (JCB co-branded)
  ["356", "356", [16]],
  ["2200", "2204", SIXTEEN_TO_19], // Mir
  ["5018", "5018", [13, 14, 15, ...SIXTEEN_TO_19]], // Maestro
  ["5020", "5020", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["5038", "5038", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["5893", "5893", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["6304", "6304", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["6759", "6759", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["6761", "6763", [13, 14, 15, ...SIXTEEN_TO_19]],
  ["506099", "506198", [16, 18, 19]], // Verve
  ["650002", "650027", [16, 18, 19]],
  ["9792", "9792", [16]], // Troy
  // UATP (1…, 15 digits) is left out: too many other 15-digit numbers start with 1.
];

/** Whether `digits` (only digits) has the prefix and length of a card brand in use. */
export function isIssuedCardNumber(digits: string): boolean {
  for (const [from, to, lengths] of IIN_RANGES) {
    if (!lengths.includes(digits.length)) continue;
    const prefix = digits.slice(0, from.length);
    if (prefix >= from && prefix <= to) return true;
  }
  return false;
}
