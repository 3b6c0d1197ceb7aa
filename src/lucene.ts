/**
 * The syntax of CBC's query language, checked the way Lucene's classic QueryParser reads it (the grammar of
 * QueryParser.jj, as Elasticsearch's query_string uses it). It only says whether text parses, and where not:
 * what a field makes of a value is CBC's business. tests/lucene/verdicts.json holds Lucene's own verdicts on
 * several hundred queries, and the tests hold this check to each of them.
 */

export interface SyntaxProblem {
  message: string;
  /** Where the problem is: an offset into the text. */
  offset: number;
  /** An edit that mends it, when one is known. */
  fix?: SyntaxFix;
}

export interface SyntaxFix {
  title: string;
  offset: number;
  insert: string;
}

type Kind =
  | 'EOF'
  | 'AND'
  | 'OR'
  | 'NOT'
  | 'PLUS'
  | 'MINUS'
  | 'BAREOPER'
  | 'LPAREN'
  | 'RPAREN'
  | 'COLON'
  | 'STAR'
  | 'CARAT'
  | 'QUOTED'
  | 'TERM'
  | 'FUZZY_SLOP'
  | 'PREFIXTERM'
  | 'WILDTERM'
  | 'REGEXPTERM'
  | 'RANGEIN_START'
  | 'RANGEEX_START'
  | 'NUMBER'
  | 'RANGE_TO'
  | 'RANGEIN_END'
  | 'RANGEEX_END'
  | 'RANGE_QUOTED'
  | 'RANGE_GOOP';

interface Token {
  kind: Kind;
  image: string;
  offset: number;
}

class Problem extends Error {
  constructor(
    message: string,
    readonly offset: number
  ) {
    super(message);
  }
}

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u3000';
const isTermStart = (c: string) => !isWhitespace(c) && !'+-!():^[]"{}~*?\\/'.includes(c);
const isTermChar = (c: string) => isTermStart(c) || c === '-' || c === '+';
const isWildChar = (c: string) => isTermChar(c) || c === '*' || c === '?';

/** The lexer of QueryParser.jj: the longest token that matches, the first declared among equals. */
class Lexer {
  private pos = 0;
  private state: 'default' | 'boost' | 'range' = 'default';
  constructor(private readonly src: string[]) {}

  /** The width of one term character at i (two when escaped), or 0. */
  private termChar(i: number, ok: (c: string) => boolean): number {
    if (i >= this.src.length) {
      return 0;
    }
    if (this.src[i] === '\\') {
      return i + 1 < this.src.length ? 2 : 0;
    }
    return ok(this.src[i]) ? 1 : 0;
  }

  private run(i: number, ok: (c: string) => boolean): number {
    let n = 0;
    for (let w = this.termChar(i, ok); w > 0; w = this.termChar(i + n, ok)) {
      n += w;
    }
    return n;
  }

  private startsWith(i: number, s: string): boolean {
    return this.src.slice(i, i + s.length).join('') === s;
  }

  next(): Token {
    if (this.state === 'boost') {
      return this.boost();
    }
    if (this.state === 'range') {
      return this.rangeToken();
    }
    while (this.pos < this.src.length && isWhitespace(this.src[this.pos])) {
      this.pos++;
    }
    const i = this.pos;
    if (i >= this.src.length) {
      return { kind: 'EOF', image: '', offset: i };
    }
    const match: { kind: Kind; length: number } = { kind: 'EOF', length: 0 };
    const consider = (kind: Kind, n: number) => {
      if (n > match.length) {
        match.kind = kind;
        match.length = n;
      }
    };
    const c = this.src[i];
    if (this.startsWith(i, 'AND')) {
      consider('AND', 3);
    } else if (this.startsWith(i, '&&')) {
      consider('AND', 2);
    } else if (this.startsWith(i, 'OR') || this.startsWith(i, '||')) {
      consider('OR', 2);
    } else if (this.startsWith(i, 'NOT')) {
      consider('NOT', 3);
    }
    const single: Record<string, Kind> = {
      '!': 'NOT',
      '+': 'PLUS',
      '-': 'MINUS',
      '(': 'LPAREN',
      ')': 'RPAREN',
      ':': 'COLON',
      '*': 'STAR',
      '^': 'CARAT',
      '[': 'RANGEIN_START',
      '{': 'RANGEEX_START',
    };
    if (single[c]) {
      consider(single[c], 1);
    }
    if (c === '"') {
      consider('QUOTED', this.quoted(i));
    }
    if (c === '~') {
      consider('FUZZY_SLOP', 1 + this.run(i + 1, isTermChar));
    }
    if (c === '/') {
      consider('REGEXPTERM', this.regexp(i));
    }
    if ('+-!'.includes(c) && i + 1 < this.src.length && isWhitespace(this.src[i + 1])) {
      consider('BAREOPER', 2);
    }
    const start = this.termChar(i, isTermStart);
    if (start > 0) {
      const n = start + this.run(i + start, isTermChar);
      consider('TERM', n);
      if (this.src[i + n] === '*') {
        consider('PREFIXTERM', n + 1);
      }
    }
    const wildStart = this.termChar(i, (ch) => isTermStart(ch) || ch === '*' || ch === '?');
    if (wildStart > 0) {
      consider('WILDTERM', wildStart + this.run(i + wildStart, isWildChar));
    }
    if (match.length === 0) {
      throw new Problem(lexicalMessage(c), i);
    }
    this.pos += match.length;
    if (match.kind === 'CARAT') {
      this.state = 'boost';
    } else if (match.kind === 'RANGEIN_START' || match.kind === 'RANGEEX_START') {
      this.state = 'range';
    }
    return { kind: match.kind, image: this.src.slice(i, i + match.length).join(''), offset: i };
  }

  private quoted(i: number): number {
    for (let j = i + 1; j < this.src.length; j++) {
      if (this.src[j] === '\\') {
        if (j + 1 >= this.src.length) {
          return 0;
        }
        j++;
      } else if (this.src[j] === '"') {
        return j - i + 1;
      }
    }
    return 0;
  }

  /** "/" ( ~["/"] | "\\/" )* "/", the longest such. */
  private regexp(i: number): number {
    let body = true;
    let afterBackslash = false;
    let longest = 0;
    for (let j = i + 1; j < this.src.length && (body || afterBackslash); j++) {
      const c = this.src[j];
      let nextBody = false;
      let nextAfter = false;
      if (c === '/') {
        if (body) {
          longest = j - i + 1;
        }
        nextBody = afterBackslash;
      } else {
        nextBody = body || afterBackslash;
        nextAfter = c === '\\' && nextBody;
      }
      body = nextBody;
      afterBackslash = nextAfter;
    }
    return longest;
  }

  private boost(): Token {
    const i = this.pos;
    const m = /^\d+(\.\d+)?/.exec(this.src.slice(i).join(''));
    if (!m) {
      throw new Problem('^ needs a boost number, as in ^2', i);
    }
    this.pos += m[0].length;
    this.state = 'default';
    return { kind: 'NUMBER', image: m[0], offset: i };
  }

  private rangeToken(): Token {
    for (;;) {
      const i = this.pos;
      if (i >= this.src.length) {
        return { kind: 'EOF', image: '', offset: i };
      }
      // A whitespace is skipped unless a longer token starts with it.
      const skip = isWhitespace(this.src[i]);
      const match: { kind: Kind | 'SKIP'; length: number } = { kind: skip ? 'SKIP' : 'EOF', length: skip ? 1 : 0 };
      const consider = (kind: Kind, n: number) => {
        if (n > match.length) {
          match.kind = kind;
          match.length = n;
        }
      };
      if (this.startsWith(i, 'TO')) {
        consider('RANGE_TO', 2);
      }
      if (this.src[i] === ']') {
        consider('RANGEIN_END', 1);
      } else if (this.src[i] === '}') {
        consider('RANGEEX_END', 1);
      } else if (this.src[i] === '"') {
        consider('RANGE_QUOTED', this.rangeQuoted(i));
      }
      let goop = 0;
      while (i + goop < this.src.length && !' ]}'.includes(this.src[i + goop])) {
        goop++;
      }
      consider('RANGE_GOOP', goop);
      if (match.length === 0) {
        throw new Problem(`Unexpected ${this.src[i]}`, i);
      }
      this.pos += match.length;
      if (match.kind === 'SKIP') {
        continue;
      }
      if (match.kind === 'RANGEIN_END' || match.kind === 'RANGEEX_END') {
        this.state = 'default';
      }
      return { kind: match.kind, image: this.src.slice(i, i + match.length).join(''), offset: i };
    }
  }

  /** "\"" ( ~["\""] | "\\\"" )+ "\"", the longest such. */
  private rangeQuoted(i: number): number {
    let longest = 0;
    let body = true;
    let afterBackslash = false;
    let chars = 0;
    for (let j = i + 1; j < this.src.length && (body || afterBackslash); j++) {
      const c = this.src[j];
      let nextBody = true;
      let nextAfter = false;
      if (c === '"') {
        if (body && chars > 0) {
          longest = j - i + 1;
        }
        nextBody = afterBackslash;
      } else {
        nextAfter = c === '\\';
      }
      chars++;
      body = nextBody;
      afterBackslash = nextAfter;
    }
    return longest;
  }
}

function lexicalMessage(c: string): string {
  switch (c) {
    case '"':
      return 'A quoted phrase is not closed: add the closing "';
    case '/':
      return 'A regular expression is not closed: add the closing /, or escape a / that belongs to a value as \\/';
    case '\\':
      return 'The query ends with a lone \\: escape it as \\\\ or remove it';
  }
  return `Unexpected ${c}: escape it with \\ or put the value in quotes`;
}

const CLAUSE_STARTS = new Set<Kind>([
  'AND',
  'OR',
  'NOT',
  'PLUS',
  'MINUS',
  'BAREOPER',
  'LPAREN',
  'STAR',
  'QUOTED',
  'TERM',
  'PREFIXTERM',
  'WILDTERM',
  'REGEXPTERM',
  'RANGEIN_START',
  'RANGEEX_START',
  'NUMBER',
]);
const NOT_AFTER_MULTI_TERM = new Set<Kind>(['COLON', 'STAR', 'FUZZY_SLOP', 'CARAT', 'AND', 'OR']);
const TERM_KINDS = new Set<Kind>(['TERM', 'STAR', 'PREFIXTERM', 'WILDTERM', 'REGEXPTERM', 'NUMBER', 'BAREOPER']);

/** The grammar of QueryParser.jj, reading tokens and building nothing. */
class Parser {
  private readonly ahead: Token[] = [];
  private depth = 0;
  constructor(private readonly lexer: Lexer) {}

  peek(n = 0): Token {
    while (this.ahead.length <= n) {
      this.ahead.push(this.lexer.next());
    }
    return this.ahead[n];
  }

  take(): Token {
    const t = this.peek();
    this.ahead.shift();
    return t;
  }

  private multiTermAhead(): boolean {
    return this.peek(0).kind === 'TERM' && this.peek(1).kind === 'TERM' && !NOT_AFTER_MULTI_TERM.has(this.peek(2).kind);
  }

  query() {
    if (++this.depth > 100) {
      throw new Problem('The query nests deeper than 100 levels', this.peek().offset);
    }
    if (this.multiTermAhead()) {
      this.multiTerm();
    } else {
      this.modifiers();
      this.clause();
    }
    while (CLAUSE_STARTS.has(this.peek().kind)) {
      if (this.multiTermAhead()) {
        this.multiTerm();
        continue;
      }
      if (this.peek().kind === 'AND' || this.peek().kind === 'OR') {
        this.take();
      }
      this.modifiers();
      this.clause();
    }
    this.depth--;
  }

  private multiTerm() {
    this.take();
    while (this.peek(0).kind === 'TERM' && !NOT_AFTER_MULTI_TERM.has(this.peek(1).kind)) {
      this.take();
    }
  }

  private modifiers() {
    const kind = this.peek().kind;
    if (kind === 'PLUS' || kind === 'MINUS' || kind === 'NOT') {
      this.take();
    }
  }

  private clause() {
    const first = this.peek(0);
    if ((first.kind === 'TERM' || first.kind === 'STAR') && this.peek(1).kind === 'COLON') {
      discardEscapes(this.take());
      this.take();
    }
    const t = this.peek();
    if (t.kind !== 'LPAREN') {
      this.term();
      return;
    }
    this.take();
    this.query();
    const close = this.take();
    if (close.kind !== 'RPAREN') {
      throw new Problem(
        close.kind === 'EOF' ? 'A parenthesis is not closed: add )' : unexpected(close).message,
        close.kind === 'EOF' ? t.offset : close.offset
      );
    }
    this.boost();
  }

  private boost(): boolean {
    if (this.peek().kind !== 'CARAT') {
      return false;
    }
    this.take();
    const n = this.take();
    if (n.kind !== 'NUMBER') {
      throw new Problem('^ needs a boost number, as in ^2', n.offset);
    }
    return true;
  }

  private suffixes() {
    const boosted = this.boost();
    if (this.peek().kind === 'FUZZY_SLOP') {
      this.take();
      if (!boosted) {
        this.boost();
      }
    }
  }

  private term() {
    const t = this.take();
    if (TERM_KINDS.has(t.kind) || t.kind === 'QUOTED') {
      this.suffixes();
      discardEscapes(t);
      return;
    }
    if (t.kind === 'RANGEIN_START' || t.kind === 'RANGEEX_START') {
      this.range(t);
      return;
    }
    throw unexpected(t);
  }

  private range(open: Token) {
    const bound = () => {
      const b = this.take();
      if (b.kind === 'EOF') {
        throw new Problem('A range is not closed: add ] or }', open.offset);
      }
      if (b.kind !== 'RANGE_GOOP' && b.kind !== 'RANGE_QUOTED' && b.kind !== 'RANGE_TO') {
        throw new Problem('A range bound is missing: use * for an open end, as in [a TO *]', b.offset);
      }
      discardEscapes(b);
    };
    bound();
    const to = this.take();
    if (to.kind !== 'RANGE_TO') {
      throw new Problem('A range needs TO between its bounds, as in [a TO b]', to.offset);
    }
    bound();
    const end = this.take();
    if (end.kind !== 'RANGEIN_END' && end.kind !== 'RANGEEX_END') {
      throw new Problem('A range is not closed: add ] or }', open.offset);
    }
    this.boost();
  }
}

function unexpected(t: Token): Problem {
  switch (t.kind) {
    case 'EOF':
      return new Problem('The query ends too early: finish the last term, or remove the operator before it', t.offset);
    case 'AND':
    case 'OR':
      return new Problem(`${t.image} needs a term on each side: add one or remove ${t.image}`, t.offset);
    case 'NOT':
      return new Problem(`${t.image} needs a term after it, and takes one NOT only: write NOT (NOT x)`, t.offset);
    case 'RPAREN':
      return new Problem('A ) closes nothing, or comes where a term was expected', t.offset);
    case 'COLON':
      return new Problem('Unexpected ":": a field name is one word, and a : in a value needs \\ or quotes', t.offset);
  }
  return new Problem(`Unexpected ${JSON.stringify(t.image)}: escape it with \\ or put the value in quotes`, t.offset);
}

/** QueryParserBase.discardEscapeChar's errors: a \u escape needs four hexadecimal digits. */
function discardEscapes(t: Token) {
  const m = /\\u(?![0-9a-fA-F]{4})/.exec(t.image.replace(/\\\\/g, '  '));
  if (m) {
    throw new Problem('A \\u escape needs four hexadecimal digits', t.offset + m.index);
  }
}

/** After field:>=, field:>, field:< or field:<=, a / opens a regular expression: the value's slashes need \. */
const COMPARISON_SLASH = /:\s*[<>]=?(?:[^\s()/\\]|\\.)*\//g;

function slashFix(text: string): SyntaxFix | undefined {
  COMPARISON_SLASH.lastIndex = 0;
  const m = COMPARISON_SLASH.exec(text);
  if (!m) {
    return undefined;
  }
  return { title: 'Escape the / as \\/', offset: m.index + m[0].length - 1, insert: '\\' };
}

/**
 * luceneTerm writes a value as a term of the query text: bare when Lucene reads it as one plain term, quoted
 * otherwise (a space, a reserved character, a leading + or -, or an operator word). With wildcards, a * in a
 * bare value stays a wildcard.
 */
export function luceneTerm(value: string, wildcards = false): string {
  const plain = wildcards ? /^[\w.@*][\w.@*-]*$/ : /^[\w.@][\w.@-]*$/;
  if (plain.test(value) && !/^(AND|OR|NOT)$/.test(value)) {
    return value;
  }
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** applyFix is text with a fix made. */
export function applyFix(text: string, fix: SyntaxFix): string {
  return text.slice(0, fix.offset) + fix.insert + text.slice(fix.offset);
}

/** The first syntax error of text, with where it is and, when one is known, its fix; undefined when it parses. */
export function luceneSyntax(text: string): SyntaxProblem | undefined {
  if (text.trim() === '') {
    return undefined;
  }
  const parser = new Parser(new Lexer(Array.from(text)));
  try {
    parser.query();
    const rest = parser.peek();
    if (rest.kind !== 'EOF') {
      throw unexpected(rest);
    }
  } catch (e) {
    if (!(e instanceof Problem)) {
      throw e;
    }
    const fix = slashFix(text);
    if (fix) {
      const after = luceneSyntax(applyFix(text, fix));
      if (!after || after.fix) {
        return {
          message: 'After >=, >, < or <=, a / must be escaped as \\/ (or use a range: [now/d TO *])',
          offset: fix.offset,
          fix,
        };
      }
    }
    return { message: e.message, offset: codeUnitOffset(text, e.offset) };
  }
  return undefined;
}

/** The offset in UTF-16 code units (the editor's) of a position counted in characters. */
function codeUnitOffset(text: string, chars: number): number {
  return Array.from(text).slice(0, chars).join('').length;
}
