/**
 * One rule for untrusted text on every surface: a reviewer sees every character of it, as text,
 * and nothing in it can hide, reorder or restyle other text. Untrusted text is anything a
 * requester or a policy wrote (action, resource, reason, params, paths, reasons, names).
 *
 * Step one, for every surface: characters that do not show as themselves are shown escaped:
 * control characters (`\x1b`, `\r`, `\n` in one-line text), bidi controls and zero-width and
 * other format characters (`\u202E`, `\u200B`), line and paragraph separators, lone surrogates,
 * private-use and unassigned code points, every default-ignorable code point (variation
 * selectors, Hangul fillers, …), and the backslash itself (`\\`),
 * so that the text `\x1b` and the character ESC cannot be confused. Step two is the surface's
 * own syntax: Markdown, commit messages, Slack mrkdwn.
 */

/** Characters shown escaped: see above. One character class, linear, no backtracking. */
const INVISIBLE =
  /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/gu;
const NAMED: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return `\\u{${cp.toString(16).toUpperCase()}}`;
}

/**
 * Untrusted text as visible characters only, on one line: every invisible or control character,
 * newlines and the backslash included, is written as an escape sequence.
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, escapeChar);
}

/**
 * Untrusted multi-line text (a YAML rendering of params) as visible characters: newlines stay
 * line breaks, everything else invisible is escaped. Backslashes stay as they are: the text is
 * already in a notation (YAML) that quotes its own escapes.
 */
export function visibleBlock(text: string): string {
  return text.replace(INVISIBLE, (ch) => (ch === "\n" || ch === "\\" ? ch : escapeChar(ch)));
}

// ---- terminal ---------------------------------------------------------------------------------

/** One line of untrusted text for a terminal: no escape sequence, CR or bidi control survives. */
export const terminalText = visibleText;

/** Untrusted multi-line text for a terminal, each line indented by `indent`. */
export function terminalBlock(text: string, indent = ""): string[] {
  return visibleBlock(text)
    .split("\n")
    .map((l) => indent + l);
}

// ---- Markdown (GitHub-flavoured) --------------------------------------------------------------

/** ASCII punctuation but `&<>`: CommonMark shows each literally when it is backslash-escaped. */
const MD_PUNCTUATION = /[!-%'-/:;=?[-`{-~]/g;
const MD_ENTITY: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Untrusted text for a Markdown paragraph, list item, heading or table cell: one line, ASCII
 * punctuation backslash-escaped and `&<>` as entities (no emphasis, link, image, HTML, comment,
 * entity, code span, heading or table pipe can start), `@` in a code span (no mention), and
 * spaces at either end kept as entities (a table cell would trim them).
 */
export function markdownText(text: string): string {
  const escaped = visibleText(text)
    .replace(MD_PUNCTUATION, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => MD_ENTITY[c]!)
    .replace(/@/g, "`@`");
  return escaped.replace(/^ +| +$/g, (spaces) => "&#32;".repeat(spaces.length));
}

/**
 * An identifier (an action, a request id, a path Interlock made) as a code span when it has an
 * identifier's shape (letters, digits, `_./-`), so it reads as one; anything else as
 * markdownText.
 */
export function markdownIdentifier(text: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(text) ? `\`${text}\`` : markdownText(text);
}

/**
 * Untrusted multi-line text as a fenced code block: the fence is longer than any run of
 * backticks inside, so the text cannot close it; invisible characters are escaped.
 */
export function markdownCodeBlock(text: string, lang = ""): string {
  const body = visibleBlock(text).replace(/\n$/, "");
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${lang}\n${body}\n${fence}`;
}

// ---- commit messages --------------------------------------------------------------------------

/**
 * Untrusted text inside a commit message: one line (CR and LF escaped, so it cannot start a
 * line of its own and forge an `Interlock-…:` trailer), and, should the caller put it at the
 * start of a line, never in the shape of a trailer (`Token: value`).
 */
export function commitText(text: string): string {
  const line = visibleText(text);
  return /^[\w-]+[ \t]*:(?!\/\/)/.test(line) ? `“${line}”` : line; // a URL is no trailer
}

// ---- chat (Slack) -----------------------------------------------------------------------------

/**
 * Untrusted text for Slack, anywhere Slack reads text (plain_text objects, rich text elements,
 * a message's fallback text): one line, `&`, `<` and `>` as entities, so no `<!channel>`,
 * `<@U123>` or `<url|label>` can form. Emphasis characters (`*`, `_`, `~`, backtick) have no
 * escape in mrkdwn: where Slack parses mrkdwn, use slackMrkdwnText.
 */
export function slackText(text: string): string {
  return visibleText(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Untrusted multi-line text for Slack (a preformatted rich text element): line breaks stay,
 * everything else as slackText.
 */
export function slackBlock(text: string): string {
  return visibleBlock(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** U+02CB MODIFIER LETTER GRAVE ACCENT: shown for a backtick inside a Slack code span. */
const SLACK_BACKTICK = "\u02CB";

/**
 * Untrusted text inside Slack mrkdwn (a section's text or fields, a context element): as an
 * inline code span, the one mrkdwn construct in which `*bold*`, `_italic_`, `~strike~`, `>`
 * quotes, auto-linked URLs, `@channel` and `:emoji:` do not apply, with `&<>` as entities (no
 * `<!channel>` or `<url|label>` inside either). mrkdwn has no escape for the backtick that
 * would end the span: it is shown as ˋ (U+02CB, a visible look-alike), never dropped. Empty
 * text is shown as an empty span of one space.
 */
export function slackMrkdwnText(text: string): string {
  const body = slackText(text).replace(/`/g, SLACK_BACKTICK);
  return `\`${body === "" ? " " : body}\``;
}

// ---- Adaptive Cards (Microsoft Teams) ---------------------------------------------------------

/** Every ASCII punctuation character: CommonMark shows each literally when backslash-escaped. */
const AC_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/**
 * Untrusted text for an Adaptive Card TextBlock or Fact (which hosts render as a Markdown
 * subset: `**bold**`, `_italic_`, `[label](url)`, lists, and in Teams `<at>` mentions): one
 * line (visibleText), every ASCII punctuation character backslash-escaped, so no emphasis,
 * link, list marker, heading, HTML-like tag or entity can start. (RichTextBlock TextRuns are
 * not Markdown: give them visibleText.)
 */
export function adaptiveCardText(text: string): string {
  return visibleText(text).replace(AC_PUNCTUATION, (c) => `\\${c}`);
}
