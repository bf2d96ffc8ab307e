import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CODEOWNERS_LOCATIONS,
  ownersFor,
  parseCodeowners,
  type Codeowners,
} from "../src/gate/codeowners.ts";

/** The example file from GitHub's "About code owners" page (current version), verbatim. */
const GITHUB_EXAMPLE = `# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well. Teams should
# be identified in the format @org/team-name. Teams must have
# explicit write access to the repository. In this example,
# the octocats team in the octo-org organization owns all .txt files.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The \`docs/*\` pattern will match files like
# \`docs/getting-started.md\` but not further nested files like
# \`docs/build-app/troubleshooting.md\`.
docs/*  docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the \`/docs\`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the \`/scripts\` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a \`/logs\` directory such as
# \`/build/logs\`, \`/scripts/logs\`, and \`/deeply/nested/logs\`. Any changes
# in a \`/logs\` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the \`/apps\`
# directory in the root of your repository except for the \`/apps/github\`
# subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github

# In this example, @octocat owns any file in the \`/apps\`
# directory in the root of your repository except for the \`/apps/github\`
# subdirectory, as this subdirectory has its own owner @doctocat
/apps/ @octocat
/apps/github @doctocat
`;

/** Parse, insisting on no errors (a test of matching must not silently test an error path). */
function parse(text: string): Codeowners {
  const parsed = parseCodeowners(text);
  expect(parsed.errors).toEqual([]);
  return parsed;
}

/** Whether a single pattern matches a path. */
function matches(pattern: string, path: string): boolean {
  return ownersFor(parse(`${pattern} @owner`), path) !== undefined;
}

/** The owners of the winning rule, or undefined when no rule matches. */
function ownersOf(codeowners: Codeowners, path: string): readonly string[] | undefined {
  return ownersFor(codeowners, path)?.owners;
}

/** Each pattern with paths it must match and paths it must not. */
function expectPattern(pattern: string, yes: string[], no: string[]): void {
  for (const path of yes) expect(matches(pattern, path), `${pattern} ~ ${path}`).toBe(true);
  for (const path of no) expect(matches(pattern, path), `${pattern} !~ ${path}`).toBe(false);
}

describe("GitHub's example CODEOWNERS file", () => {
  const example = parse(GITHUB_EXAMPLE);

  it("parses every line without errors, keeping line numbers and lower-cased owners", () => {
    expect(example.rules.map((r) => [r.line, r.pattern, r.owners])).toEqual([
      [8, "*", ["@global-owner1", "@global-owner2"]],
      [14, "*.js", ["@js-owner"]],
      [19, "*.go", ["docs@example.com"]],
      [25, "*.txt", ["@octo-org/octocats"]],
      [30, "/build/logs/", ["@doctocat"]],
      [35, "docs/*", ["docs@example.com"]],
      [39, "apps/", ["@octocat"]],
      [44, "/docs/", ["@doctocat"]],
      [48, "/scripts/", ["@doctocat", "@octocat"]],
      [53, "**/logs", ["@octocat"]],
      [58, "/apps/", ["@octocat"]],
      [59, "/apps/github", []],
      [64, "/apps/", ["@octocat"]],
      [65, "/apps/github", ["@doctocat"]],
    ]);
  });

  it("resolves each path to the last matching rule of the whole file", () => {
    const cases: [string, string[]][] = [
      ["README.md", ["@global-owner1", "@global-owner2"]],
      ["src/deep/index.js", ["@js-owner"]],
      ["cmd/server/main.go", ["docs@example.com"]],
      ["notes/todo.txt", ["@octo-org/octocats"]],
      // /build/logs/ (line 30) is overridden by the later **/logs (line 53).
      ["build/logs/today.log", ["@octocat"]],
      // docs/* (line 35) is overridden by the later /docs/ (line 44).
      ["docs/getting-started.md", ["@doctocat"]],
      ["docs/build-app/troubleshooting.md", ["@doctocat"]],
      ["web/apps/main.js", ["@octocat"]],
      ["scripts/deploy.sh", ["@doctocat", "@octocat"]],
      ["scripts/logs/run.txt", ["@octocat"]],
      ["deeply/nested/logs/x.js", ["@octocat"]],
      ["apps/main/index.js", ["@octocat"]],
      ["apps/github/index.js", ["@doctocat"]],
    ];
    for (const [path, owners] of cases) expect(ownersOf(example, path), path).toEqual(owners);
  });

  it("* gives the global owners to everything, at any depth", () => {
    expectPattern("*", ["README.md", "a/b/c.txt", ".github/workflows/ci.yml"], []);
  });

  it("*.js matches .js files anywhere, and nothing else", () => {
    expectPattern(
      "*.js",
      ["index.js", "src/deep/app.js", ".js"],
      ["index.jsx", "app.js.map", "src/js", "index.JS"],
    );
  });

  it("*.go docs@example.com: an e-mail owner", () => {
    const rules = parse("*.go docs@example.com");
    expect(ownersOf(rules, "cmd/main.go")).toEqual(["docs@example.com"]);
    expect(ownersOf(rules, "main.golang")).toBeUndefined();
  });

  it("*.txt @octo-org/octocats: a team owner", () => {
    expect(ownersOf(parse("*.txt @octo-org/octocats"), "a/b.txt")).toEqual(["@octo-org/octocats"]);
  });

  it("/build/logs/ matches everything under the root build/logs directory only", () => {
    expectPattern(
      "/build/logs/",
      ["build/logs/a.log", "build/logs/2024/01/a.log"],
      ["build/logs", "src/build/logs/a.log", "build/logsx/a.log", "build/a.log"],
    );
  });

  it("docs/* matches files directly in docs/, not nested ones, and only at the root", () => {
    expectPattern(
      "docs/*",
      ["docs/getting-started.md", "docs/README"],
      ["docs/build-app/troubleshooting.md", "src/docs/a.md", "docs", "docsx/a.md"],
    );
  });

  it("apps/ matches any apps directory anywhere, but not a file named apps", () => {
    expectPattern(
      "apps/",
      ["apps/a.js", "x/apps/y/z.rb", "a/b/apps/c"],
      ["apps", "x/apps", "myapps/a.js", "apps.js", "x/apps-old/a"],
    );
  });

  it("/docs/ matches everything under the root docs directory only", () => {
    expectPattern(
      "/docs/",
      ["docs/a.md", "docs/build-app/troubleshooting.md"],
      ["src/docs/a.md", "docs", "docs.md"],
    );
  });

  it("/scripts/ @doctocat @octocat requires either owner", () => {
    const rules = parse("/scripts/ @doctocat @octocat");
    expect(ownersOf(rules, "scripts/a/b.sh")).toEqual(["@doctocat", "@octocat"]);
    expect(ownersOf(rules, "tools/scripts/b.sh")).toBeUndefined();
  });

  it("**/logs matches a logs directory (or file) at any depth", () => {
    expectPattern(
      "**/logs",
      ["logs/a", "build/logs/a.log", "scripts/logs/a", "deeply/nested/logs/a/b", "x/logs"],
      ["logsmith/a", "build/logs.txt", "build/catalogs/a", "build/log"],
    );
  });

  it("/apps/ @octocat then /apps/github with no owners: matched, but owned by nobody", () => {
    const rules = parse("/apps/ @octocat\n/apps/github\n");
    expect(ownersOf(rules, "apps/main/index.js")).toEqual(["@octocat"]);
    expect(ownersFor(rules, "apps/github/index.js")).toEqual({
      line: 2,
      pattern: "/apps/github",
      owners: [],
    });
    expect(ownersOf(rules, "apps/githubx/index.js")).toEqual(["@octocat"]);
    expect(ownersFor(rules, "README.md")).toBeUndefined();
  });

  it("/apps/ @octocat then /apps/github @doctocat: the subdirectory has its own owner", () => {
    const rules = parse("/apps/ @octocat\n/apps/github @doctocat\n");
    expect(ownersOf(rules, "apps/github/a")).toEqual(["@doctocat"]);
    expect(ownersOf(rules, "apps/gitlab/a")).toEqual(["@octocat"]);
  });

  it("owners on separate lines for one pattern: only the last line counts", () => {
    const rules = parse("*.md @alice\n*.md @bob\n");
    expect(ownersOf(rules, "README.md")).toEqual(["@bob"]);
  });
});

describe("precedence", () => {
  it("the last matching rule wins (first-match-wins would pick @global)", () => {
    const rules = parse("* @global\n*.js @js\n/src/ @src\n");
    expect(ownersFor(rules, "src/a.js")?.line).toBe(3);
    expect(ownersOf(rules, "lib/a.js")).toEqual(["@js"]);
    expect(ownersOf(rules, "README.md")).toEqual(["@global"]);
  });

  it("a later broad rule overrides an earlier specific one", () => {
    const rules = parse("/src/secret.ts @security\n* @everyone\n");
    expect(ownersOf(rules, "src/secret.ts")).toEqual(["@everyone"]);
  });

  it("no rules, no match", () => {
    expect(ownersFor(parse(""), "a")).toBeUndefined();
    expect(ownersFor(parse("# only a comment\n\n"), "a")).toBeUndefined();
  });
});

describe("line syntax", () => {
  it("skips comments and blank lines, and counts lines from 1", () => {
    const rules = parse("# comment\n\n   \n  # indented comment\n*.md @a\n");
    expect(rules.rules).toEqual([{ line: 5, pattern: "*.md", owners: ["@a"] }]);
  });

  it("ends a rule at a trailing comment after whitespace", () => {
    expect(parse("*.md @a # @b is not an owner").rules[0]?.owners).toEqual(["@a"]);
    expect(parse("/x\t#no owners, tab before the comment").rules[0]?.owners).toEqual([]);
  });

  it("separates with any run of spaces and tabs, and ignores surrounding whitespace", () => {
    expect(parse("  *.md \t @a\t\t@b  ").rules[0]).toEqual({
      line: 1,
      pattern: "*.md",
      owners: ["@a", "@b"],
    });
  });

  it("handles Windows line endings", () => {
    const rules = parse("# comment\r\n* @A\r\n\r\n/docs/ @b # c\r\n/apps/github\r\n");
    expect(rules.rules).toEqual([
      { line: 2, pattern: "*", owners: ["@a"] },
      { line: 4, pattern: "/docs/", owners: ["@b"] },
      { line: 5, pattern: "/apps/github", owners: [] },
    ]);
    expect(ownersOf(rules, "docs/x.md")).toEqual(["@b"]);
  });

  it("lower-cases owners (GitHub names are case-insensitive) and drops duplicates", () => {
    const rules = parse("* @Octocat @OCTOCAT @Octo-Org/Core Docs@Example.COM");
    expect(rules.rules[0]?.owners).toEqual(["@octocat", "@octo-org/core", "docs@example.com"]);
  });

  it("keeps paths case-sensitive", () => {
    expectPattern("/Docs/", ["Docs/a.md"], ["docs/a.md"]);
    expectPattern("*.md", ["a.md"], ["README.MD"]);
  });

  it("freezes what it returns", () => {
    const rules = parse("* @a");
    expect(Object.isFrozen(rules.rules)).toBe(true);
    expect(Object.isFrozen(rules.rules[0]?.owners)).toBe(true);
  });
});

describe("errors (fail closed: the line is reported and its rule is not applied)", () => {
  /** A file whose line 2 is the bad one, after a catch-all rule. */
  function withBadLine(line: string) {
    const parsed = parseCodeowners(`* @global\n${line}\n`);
    return { parsed, firstError: parsed.errors[0] };
  }

  it.each([
    ["*.md bob", "owner 'bob' must start with @ or be an e-mail address"],
    ["*.md @", "owner '@' is not a valid @user or @org/team name"],
    ["*.md @org/team/sub", "owner '@org/team/sub' is not a valid @user or @org/team name"],
    ["*.md @-bob", "owner '@-bob' is not a valid @user or @org/team name"],
    ["*.md bob@", "owner 'bob@' is not a valid e-mail address"],
    ["*.md bob@example", "owner 'bob@example' is not a valid e-mail address"],
    ["*.md a@b@example.com", "owner 'a@b@example.com' is not a valid e-mail address"],
    ["*.md @bob#note", "owner '@bob#note' contains '#'; put whitespace before a trailing comment"],
  ])("invalid owner: %s", (line, message) => {
    const { parsed, firstError } = withBadLine(line);
    expect(firstError).toEqual({ line: 2, message });
    expect(ownersOf(parsed, "README.md")).toEqual(["@global"]);
  });

  it.each([
    ["!secret/ @x", "negation with '!' is not supported"],
    ["*.[ch] @x", "character ranges with '[ ]' are not supported"],
    ["src/[a]/ @x", "character ranges with '[ ]' are not supported"],
    ["\\#notes.md @x", "escaping a leading '#' with '\\' is not supported"],
    ["path\\ with\\ space @x", "escaping with '\\' is not supported"],
    ["a\\*b @x", "escaping with '\\' is not supported"],
    ["notes#1.md @x", "'#' inside a pattern is ambiguous"],
    ["/ @x", "never matches anything"],
    ["a//b @x", "empty segment"],
    ["./a @x", "'.' or '..' segment"],
    ["a/../b @x", "'.' or '..' segment"],
    ["a***b @x", "three or more consecutive '*'"],
    ["**/ @x", "ambiguous; use '*'"],
    ["/**/**/ @x", "ambiguous; use '*'"],
    ["a\rb @x", "control characters are not allowed"],
  ])("invalid pattern: %s", (line, fragment) => {
    const { parsed, firstError } = withBadLine(line);
    // Tokens after a bad pattern may be reported too ('path\', 'with\', …): all on line 2.
    expect(parsed.errors.length).toBeGreaterThan(0);
    expect(parsed.errors.every((e) => e.line === 2)).toBe(true);
    expect(firstError?.message).toContain(fragment);
    // The bad rule is not applied: the catch-all still owns everything.
    expect(parsed.rules.map((r) => r.line)).toEqual([1]);
  });

  it("a negation line does not un-own anything (GitHub: '!' does not work)", () => {
    const parsed = parseCodeowners("/secret/ @security\n!/secret/public.md\n");
    expect(parsed.errors.map((e) => e.line)).toEqual([2]);
    expect(ownersOf(parsed, "secret/public.md")).toEqual(["@security"]);
  });

  it("reports every problem of a line and keeps parsing the following lines", () => {
    const parsed = parseCodeowners("!x bob carol\n*.md @ok\n");
    expect(parsed.errors.map((e) => e.line)).toEqual([1, 1, 1]);
    expect(parsed.rules).toEqual([{ line: 2, pattern: "*.md", owners: ["@ok"] }]);
  });

  it("'!' and other characters are literal inside a pattern", () => {
    expectPattern("/a!b.md", ["a!b.md"], ["ab.md"]);
    expectPattern("x.(y)+z^$|{}", ["x.(y)+z^$|{}"], ["x.yz"]);
  });

  it("rejects a byte-order mark", () => {
    const parsed = parseCodeowners("\uFEFF* @a\n");
    expect(parsed.errors).toEqual([expect.objectContaining({ line: 1 })]);
    expect(parsed.rules).toHaveLength(1);
  });

  it("ignores a file of 3 MB or more entirely, as GitHub does", () => {
    const comment = `# ${"x".repeat(98)}\n`; // 101 bytes
    const big = `* @a\n${comment.repeat(Math.ceil(3_000_000 / comment.length))}`;
    const parsed = parseCodeowners(big);
    expect(parsed.rules).toEqual([]);
    expect(parsed.errors).toEqual([
      { line: 0, message: expect.stringContaining("GitHub ignores files of 3 MB or more") },
    ]);
    const justUnder = `* @a\n${comment.repeat(29_000)}`;
    expect(parseCodeowners(justUnder).errors).toEqual([]);
  });

  it("measures the size in UTF-8 bytes, not characters", () => {
    const line = `# ${"é".repeat(1000)}\n`; // 2003 bytes, 1003 characters
    const text = line.repeat(1500); // 3,004,500 bytes, 1,504,500 characters
    expect(parseCodeowners(text).errors).toHaveLength(1);
  });
});

describe("pattern semantics beyond the documentation's examples", () => {
  it("a pattern without a slash matches at any depth, as file or directory", () => {
    expectPattern("foo", ["foo", "foo/bar", "bar/foo", "bar/foo/baz"], ["foo.txt", "bar/foox"]);
  });

  it("a slash in the middle anchors to the root", () => {
    expectPattern("foo/bar", ["foo/bar", "foo/bar/baz"], ["x/foo/bar", "foo/bart"]);
    expectPattern("/foo", ["foo", "foo/bar"], ["bar/foo", "fool"]);
  });

  it("* stays within one segment; a wildcard segment other than a lone * covers descendants", () => {
    expectPattern("foo/*.txt", ["foo/a.txt"], ["foo/a/b.txt", "x/foo/a.txt"]);
    expectPattern("f*", ["foo", "foo/bar", "bar/foo/baz"], ["bar/baz", "xfoo"]);
    expectPattern("foo/*/baz", ["foo/bar/baz", "foo/bar/baz/qux"], ["foo/baz", "foo/a/b/baz"]);
  });

  it("/* matches only files at the root", () => {
    expectPattern("/*", ["README.md", "a"], ["a/b", "a/b/c"]);
  });

  it("? matches exactly one character of a segment", () => {
    expectPattern("f?o", ["foo", "a/fxo"], ["fo", "fooo", "f/o"]);
    expectPattern("/?.md", ["é.md"], ["ab.md"]);
  });

  it("** matches zero or more segments: leading, trailing and in the middle", () => {
    expectPattern("**/foo/bar", ["foo/bar", "a/b/foo/bar/c"], ["foo/x/bar"]);
    expectPattern("foo/**", ["foo/a", "foo/a/b"], ["foo", "x/foo/a"]);
    expectPattern("a/**/b", ["a/b", "a/x/b", "a/x/y/b/z"], ["x/a/b", "a/xb", "ab"]);
    expectPattern("a/**/b/**/c", ["a/b/c", "a/1/b/2/c", "a/b/b/c/d"], ["a/c/b", "a/b", "a/bc"]);
    expectPattern("**", ["a", "a/b/c"], []);
    expectPattern("/**", ["a", "a/b/c"], []);
    expectPattern("a/**/", ["a/b", "a/b/c"], ["a", "b/a/c"]);
  });

  it("several * in one segment", () => {
    expectPattern("*a*b*", ["ab", "xaybz", "d/aab/e"], ["ba", "a/b"]);
    expectPattern("/a**b", ["ab", "axyb"], ["a/b"]);
  });

  it("agrees with a naive reference matcher on random patterns and paths", () => {
    const segment = fc.constantFrom("a", "b", "ab", "*", "?", "**", "a*", "*b", "*a*b*", "a?");
    const pattern = fc
      .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([lead, segs, trail]) => `${lead ? "/" : ""}${segs.join("/")}${trail ? "/" : ""}`)
      // `***` and a bare `**/` are rejected as ambiguous (tested above).
      .filter((p) => !p.includes("***") && !/^\/?(\*\*\/)+$/.test(p));
    const path = fc
      .array(fc.constantFrom("a", "b", "ab", "ba", "aab", "bab"), { minLength: 1, maxLength: 6 })
      .map((segs) => segs.join("/"));
    fc.assert(
      fc.property(pattern, path, (p, f) => {
        expect(matches(p, f), `${p} ~ ${f}`).toBe(naiveMatch(p, f));
      }),
      { numRuns: 3000 },
    );
  });

  it("matches in linear time on hostile paths (no catastrophic backtracking)", () => {
    const longSegment = "a".repeat(50_000);
    const deepPath = `${"a/".repeat(25_000)}x`;
    const patterns = [
      "a/**/a/**/a/**/b",
      "**/a/**/a/**/b",
      "*a*a*a*b",
      "**/*a*a*b*/**/c",
      "*.js",
      "**/logs",
    ];
    for (const pattern of patterns) {
      const rules = parse(`${pattern} @x`);
      for (const path of [longSegment, deepPath, `${deepPath}/${longSegment}`]) {
        const started = performance.now();
        expect(ownersFor(rules, path)).toBeUndefined();
        expect(performance.now() - started, pattern).toBeLessThan(1_000);
      }
    }
  });
});

describe("ownersFor input", () => {
  it.each(["", "/a", "a/", "a//b", "./a", "a/../b"])("rejects the path %j", (path) => {
    expect(() => ownersFor(parse("* @a"), path)).toThrow(TypeError);
  });

  it("compiles rules that were not produced by parseCodeowners", () => {
    const manual: Codeowners = {
      rules: [{ line: 1, pattern: "/docs/", owners: ["@a"] }],
      errors: [],
    };
    expect(ownersOf(manual, "docs/x")).toEqual(["@a"]);
    const invalid: Codeowners = { rules: [{ line: 1, pattern: "!x", owners: [] }], errors: [] };
    expect(() => ownersFor(invalid, "x")).toThrow(/negation/);
  });
});

describe("CODEOWNERS_LOCATIONS", () => {
  it("lists GitHub's search order", () => {
    expect(CODEOWNERS_LOCATIONS).toEqual([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]);
    expect(Object.isFrozen(CODEOWNERS_LOCATIONS)).toBe(true);
  });
});

/**
 * An independent, deliberately slow reference: match segment lists recursively. Same
 * semantics as the module (see its header), none of its regular-expression machinery.
 */
function naiveMatch(pattern: string, path: string): boolean {
  const directoryOnly = pattern.endsWith("/");
  const body = pattern.replace(/^\//, "").replace(/\/$/, "");
  const anchored = pattern.startsWith("/") || body.includes("/");
  const segs = body.split("/");
  if (!anchored) segs.unshift("**");
  // A trailing "/" or "/**" means one or more segments below; a lone "*" ends the path; anything
  // else may be followed by any number of segments (a matching directory owns its contents).
  const endsInDoubleStar = segs.at(-1) === "**" && segs.some((s) => s !== "**");
  if (endsInDoubleStar) segs.pop();
  if (directoryOnly || endsInDoubleStar) segs.push("**+");
  else if (segs.at(-1) !== "*" && segs.at(-1) !== "**") segs.push("**");
  return matchSegments(segs, path.split("/"));
}

function matchSegments(pattern: string[], path: string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return path.length === 0;
  if (head === "**") {
    return path.some((_, i) => matchSegments(rest, path.slice(i))) || matchSegments(rest, []);
  }
  if (head === "**+") {
    return (
      path.some((_, i) => i > 0 && matchSegments(rest, path.slice(i))) ||
      (path.length > 0 && matchSegments(rest, []))
    );
  }
  const [first, ...others] = path;
  return first !== undefined && matchGlob(head, first) && matchSegments(rest, others);
}

/** `*` any run, `?` one character, all within a segment. */
function matchGlob(glob: string, text: string): boolean {
  if (glob === "") return text === "";
  const [g, ...gs] = glob;
  const restGlob = gs.join("");
  if (g === "*")
    return [...Array(text.length + 1).keys()].some((i) => matchGlob(restGlob, text.slice(i)));
  if (text === "") return false;
  return (g === "?" || g === text[0]) && matchGlob(restGlob, text.slice(1));
}
