package cbc.lucene;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.queryparser.classic.Token;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DisjunctionMaxQuery;
import org.apache.lucene.search.FuzzyQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.RegexpQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.WildcardQuery;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.util.QueryBuilder;
import org.apache.lucene.util.automaton.RegExp;

/**
 * Lucene's classic query parser (split on operators only, AND as the default operator) with the rules
 * Elasticsearch's query_string applies on top. Each override names the Elasticsearch class it follows; the
 * mapping is the one docs/query-language.md states.
 */
final class EsQueryParser extends QueryParser {
  static final String TEXT_FIELD = "description";

  enum Kind { TEXT, KEYWORD, BOOLEAN, DATE }

  static final Map<String, Kind> MAPPING = Map.of(
      "description", Kind.TEXT,
      "actor", Kind.KEYWORD,
      "actor_ip", Kind.KEYWORD,
      "request_url", Kind.KEYWORD,
      "org_key", Kind.KEYWORD,
      "flagged", Kind.BOOLEAN,
      "verbose", Kind.BOOLEAN,
      "create_time", Kind.DATE);

  /** What a value without a field searches (query_string's "fields"). */
  static final List<String> DEFAULT_FIELDS = List.of("description", "actor", "actor_ip", "request_url", "org_key");

  private final long now;
  private final boolean refuseUnknown;
  private final QueryBuilder analysis;

  EsQueryParser(Analyzer analyzer, long now, boolean refuseUnknown) {
    super(null, analyzer); // QueryStringQueryParser(context, fieldsAndWeights): no default field
    this.now = now;
    this.refuseUnknown = refuseUnknown;
    this.analysis = new QueryBuilder(analyzer);
    setDefaultOperator(Operator.AND);
    setAllowLeadingWildcard(true); // QueryStringQueryBuilder.DEFAULT_ALLOW_LEADING_WILDCARD
    setFuzzyPrefixLength(0); // FuzzyQuery.defaultPrefixLength
  }

  /** QueryStringQueryParser.parse: a blank query matches nothing. */
  Query parseQuery(String text) throws ParseException {
    if (text.trim().isEmpty()) {
      return new MatchNoDocsQuery();
    }
    return parse(text);
  }

  private List<String> fields(String field) {
    if (field == null || field.equals("*")) {
      return DEFAULT_FIELDS;
    }
    if (MAPPING.containsKey(field)) {
      return List.of(field);
    }
    if (refuseUnknown) {
      throw new IllegalArgumentException("unknown field [" + field + "]");
    }
    return List.of();
  }

  /** MultiMatchQueryParser (best_fields): one query a field, any of them; null when analysis left nothing. */
  private Query perField(String field, Function<String, Query> single) {
    List<String> fields = fields(field);
    if (fields.isEmpty()) {
      return new MatchNoDocsQuery("unmapped field"); // Queries.newUnmappedFieldQuery
    }
    List<Query> queries = new ArrayList<>();
    for (String f : fields) {
      Query q = single.apply(f);
      if (q != null) {
        queries.add(q);
      }
    }
    if (queries.isEmpty()) {
      return null;
    }
    return queries.size() == 1 ? queries.get(0) : new DisjunctionMaxQuery(queries, 0f);
  }

  private static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /** BooleanFieldMapper.BooleanFieldType.indexedValueForSearch. */
  private static String bool(String value) {
    switch (value) {
      case "true":
        return "T";
      case "false":
        return "F";
      default:
        throw new IllegalArgumentException("Can't parse boolean value [" + value + "], expected [true] or [false]");
    }
  }

  /** DateFieldMapper.DateFieldType.rangeQuery: rounding per bound, exclusive bounds moved by a millisecond. */
  private Query dateRange(String lo, String hi, boolean includeLo, boolean includeHi) {
    long l = Long.MIN_VALUE;
    long u = Long.MAX_VALUE;
    if (lo != null) {
      l = EsDates.parse(lo, now, !includeLo);
      if (!includeLo) {
        l++;
      }
    }
    if (hi != null) {
      u = EsDates.parse(hi, now, includeHi);
      if (!includeHi) {
        u--;
      }
    }
    return LongPoint.newRangeQuery("create_time", l, u);
  }

  /** MatchQueryParser over one field: a match (all words, as the default operator is AND) or a phrase. */
  private Query match(String field, String text, boolean phrase, int slop) {
    switch (MAPPING.get(field)) {
      case TEXT:
        return phrase
            ? analysis.createPhraseQuery(field, text, slop)
            : analysis.createBooleanQuery(field, text, BooleanClause.Occur.MUST);
      case KEYWORD:
        return new TermQuery(new Term(field, lower(text)));
      case BOOLEAN:
        return new TermQuery(new Term(field, bool(text)));
      default:
        return dateRange(text, text, true, true); // DateFieldType.termQuery
    }
  }

  /** QueryStringQueryParser.existsQuery. */
  private Query exists(String field) {
    if (!MAPPING.containsKey(field)) {
      if (refuseUnknown) {
        throw new IllegalArgumentException("unknown field [" + field + "]");
      }
      return new MatchNoDocsQuery("unmapped field");
    }
    return new TermQuery(new Term(Reference.FIELD_NAMES, field));
  }

  private static IllegalArgumentException unsupported(String what, String field) {
    return new IllegalArgumentException("Can only use " + what + " queries on keyword and text fields - not on ["
        + field + "] which is of type [" + lower(MAPPING.get(field).name()) + "]");
  }

  private static boolean isString(String field) {
    Kind k = MAPPING.get(field);
    return k == Kind.TEXT || k == Kind.KEYWORD;
  }

  @Override
  protected Query getFieldQuery(String field, String queryText, boolean quoted) throws ParseException {
    if ("_exists_".equals(field)) {
      return exists(queryText);
    }
    if (quoted) {
      return getFieldQuery(field, queryText, getPhraseSlop());
    }
    // QueryStringQueryParser.getFieldQuery: field:>v, field:>=v, field:<v and field:<=v are one-sided ranges.
    if (field != null && queryText.length() > 1) {
      if (queryText.charAt(0) == '>') {
        if (queryText.length() > 2 && queryText.charAt(1) == '=') {
          return getRangeQuery(field, queryText.substring(2), null, true, true);
        }
        return getRangeQuery(field, queryText.substring(1), null, false, true);
      } else if (queryText.charAt(0) == '<') {
        if (queryText.length() > 2 && queryText.charAt(1) == '=') {
          return getRangeQuery(field, null, queryText.substring(2), true, true);
        }
        return getRangeQuery(field, null, queryText.substring(1), true, false);
      }
    }
    return perField(field, f -> match(f, queryText, false, 0));
  }

  @Override
  protected Query getFieldQuery(String field, String queryText, int slop) throws ParseException {
    if ("_exists_".equals(field)) {
      return exists(queryText);
    }
    return perField(field, f -> match(f, queryText, true, slop));
  }

  @Override
  protected Query getRangeQuery(String field, String part1, String part2, boolean startInclusive,
      boolean endInclusive) throws ParseException {
    String lo = "*".equals(part1) ? null : part1;
    String hi = "*".equals(part2) ? null : part2;
    return perField(field, f -> {
      switch (MAPPING.get(f)) {
        case TEXT:
        case KEYWORD:
          // StringFieldType.rangeQuery over bounds the field's analyzer normalized (lower-cased)
          return TermRangeQuery.newStringRange(f, lo == null ? null : lower(lo), hi == null ? null : lower(hi),
              startInclusive, endInclusive);
        case BOOLEAN:
          return TermRangeQuery.newStringRange(f, lo == null ? null : bool(lo), hi == null ? null : bool(hi),
              startInclusive, endInclusive);
        default:
          return dateRange(lo, hi, startInclusive, endInclusive);
      }
    });
  }

  // StringFieldType.normalizeWildcardPattern: everything but wildcards and escaped characters is normalized.
  private static final Pattern WILDCARD = Pattern.compile("(\\\\.)|([?*]+)");

  private static String normalizeWildcard(String value) {
    Matcher m = WILDCARD.matcher(value);
    StringBuilder sb = new StringBuilder();
    int last = 0;
    while (m.find()) {
      sb.append(lower(value.substring(last, m.start()))).append(m.group());
      last = m.end();
    }
    return sb.append(lower(value.substring(last))).toString();
  }

  @Override
  protected Query getWildcardQuery(String field, String termStr) throws ParseException {
    if (termStr.equals("*") && field != null) {
      return field.equals("*") ? new MatchAllDocsQuery() : exists(field);
    }
    return perField(field, f -> {
      if (termStr.equals("*")) {
        return exists(f);
      }
      if (!isString(f)) {
        throw unsupported("wildcard", f);
      }
      return new WildcardQuery(new Term(f, normalizeWildcard(termStr)));
    });
  }

  @Override
  protected Query getPrefixQuery(String field, String termStr) throws ParseException {
    return perField(field, f -> {
      if (!isString(f)) {
        throw unsupported("prefix", f);
      }
      return new PrefixQuery(new Term(f, lower(termStr)));
    });
  }

  @Override
  protected Query getRegexpQuery(String field, String termStr) throws ParseException {
    if (termStr.length() > 1000) { // IndexSettings.MAX_REGEX_LENGTH_SETTING
      throw new IllegalArgumentException("The length of regex [" + termStr.length() + "] has exceeded the allowed maximum of [1000]");
    }
    return perField(field, f -> {
      if (!isString(f)) {
        throw unsupported("regexp", f);
      }
      // Not normalized: a pattern with capitals matches nothing in a lower-cased field.
      return new RegexpQuery(new Term(f, termStr), RegExp.ALL);
    });
  }

  /** QueryStringQueryParser.getFuzzyDistance with Fuzziness.fromString: ~ alone is AUTO. */
  @Override
  protected float getFuzzyDistance(Token fuzzyToken, String termStr) {
    if (fuzzyToken.image.length() == 1) {
      return autoDistance(termStr, 3, 6);
    }
    String s = fuzzyToken.image.substring(1).toUpperCase(Locale.ROOT);
    if (s.equals("AUTO")) {
      return autoDistance(termStr, 3, 6);
    }
    float f;
    try {
      f = Float.parseFloat(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("fuzziness cannot be [" + s + "].");
    }
    if (f % 1 > 0) {
      throw new IllegalArgumentException("fuzziness needs to be one of 0.0, 1.0 or 2.0 but was " + f);
    }
    if (f != 0 && f != 1 && f != 2) {
      throw new IllegalArgumentException("Valid edit distances are [0, 1, 2] but was [" + (int) f + "]");
    }
    return f;
  }

  private static int autoDistance(String text, int low, int high) {
    int len = text.codePointCount(0, text.length());
    return len < low ? 0 : len < high ? 1 : 2;
  }

  @Override
  protected Query getFuzzyQuery(String field, String termStr, float minSimilarity) throws ParseException {
    int edits = (int) minSimilarity;
    return perField(field, f -> {
      if (!isString(f)) {
        throw unsupported("fuzzy", f);
      }
      return new FuzzyQuery(new Term(f, lower(termStr)), edits, 0, FuzzyQuery.defaultMaxExpansions, true);
    });
  }

  /** Queries.fixNegativeQueryIfNeeded: a query of only prohibited clauses matches all but those. */
  @Override
  protected Query getBooleanQuery(List<BooleanClause> clauses) throws ParseException {
    Query q = super.getBooleanQuery(clauses);
    if (!(q instanceof BooleanQuery)) {
      return q;
    }
    BooleanQuery bq = (BooleanQuery) q;
    if (bq.clauses().isEmpty() || !bq.clauses().stream().allMatch(BooleanClause::isProhibited)) {
      return q;
    }
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    for (BooleanClause c : bq) {
      b.add(c);
    }
    b.add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER);
    return b.build();
  }
}
