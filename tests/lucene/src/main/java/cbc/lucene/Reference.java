package cbc.lucene;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * Indexes audit records with the mapping docs/query-language.md states and answers queries with Lucene's classic query
 * parser plus Elasticsearch's query_string rules ({@link EsQueryParser}).
 *
 * <p>Usage: {@code Reference RECORDS QUERIES NOW_MILLIS ABSENT_BOOLEANS UNKNOWN_FIELDS}. RECORDS has one record a
 * line: id, actor, actor_ip, create_time in epoch milliseconds, description, flagged, verbose (true, false, or
 * empty when the record leaves it out), org_key, request_url (empty when absent), separated by tabs. QUERIES has
 * one query a line. ABSENT_BOOLEANS is "unindexed" or "false"; UNKNOWN_FIELDS is "none" or "refuse". For each
 * query it prints one line of three columns: "ok" and the ids of its hits, "syntax" and the parser's message, or
 * "refused" and the message of a query that Elasticsearch would answer with 400 for what it asks; then whether
 * the text parses at all ("parses" or "unparsable"), which a refused query may or may not.
 */
public final class Reference {
  static final String FIELD_NAMES = "_field_names";

  public static void main(String[] args) throws IOException {
    if (args.length != 5) {
      System.err.println("usage: Reference RECORDS QUERIES NOW_MILLIS ABSENT_BOOLEANS UNKNOWN_FIELDS");
      System.exit(2);
    }
    List<String> records = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
    List<String> queries = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
    long now = Long.parseLong(args[2]);
    boolean absentIsFalse = args[3].equals("false");
    boolean refuseUnknown = args[4].equals("refuse");

    Analyzer analyzer = analyzer();
    ByteBuffersDirectory dir = new ByteBuffersDirectory();
    try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig(analyzer))) {
      for (String line : records) {
        if (!line.isEmpty()) {
          w.addDocument(document(line.split("\t", -1), absentIsFalse));
        }
      }
    }
    StringBuilder out = new StringBuilder();
    try (DirectoryReader reader = DirectoryReader.open(dir)) {
      IndexSearcher searcher = new IndexSearcher(reader);
      for (String text : queries) {
        String[] a = answer(searcher, analyzer, text, now, refuseUnknown).split("\t", 2);
        out.append(a[0]).append('\t').append(parses(text) ? "parses" : "unparsable").append('\t').append(a[1]).append('\n');
      }
    }
    System.out.print(out);
  }

  /** description is analysed by the standard analyzer; the keyword fields are lower-cased whole values. */
  static Analyzer analyzer() {
    return new PerFieldAnalyzerWrapper(
        new KeywordAnalyzer(), Map.of(EsQueryParser.TEXT_FIELD, new StandardAnalyzer()));
  }

  static Document document(String[] f, boolean absentIsFalse) {
    Document d = new Document();
    d.add(new StoredField("id", f[0]));
    keyword(d, "actor", f[1]);
    keyword(d, "actor_ip", f[2]);
    long created = Long.parseLong(f[3]);
    d.add(new LongPoint("create_time", created));
    d.add(new StringField(FIELD_NAMES, "create_time", Field.Store.NO));
    d.add(new TextField(EsQueryParser.TEXT_FIELD, f[4], Field.Store.NO));
    d.add(new StringField(FIELD_NAMES, EsQueryParser.TEXT_FIELD, Field.Store.NO));
    bool(d, "flagged", f[5], absentIsFalse);
    bool(d, "verbose", f[6], absentIsFalse);
    keyword(d, "org_key", f[7]);
    keyword(d, "request_url", f[8]);
    return d;
  }

  // A keyword field with a lowercase normalizer (KeywordFieldMapper with "normalizer": "lowercase").
  static void keyword(Document d, String field, String value) {
    if (value.isEmpty()) {
      return; // CBC writes an empty request_url as null: the field is absent
    }
    d.add(new StringField(field, value.toLowerCase(Locale.ROOT), Field.Store.NO));
    d.add(new StringField(FIELD_NAMES, field, Field.Store.NO));
  }

  // BooleanFieldMapper indexes true as "T" and false as "F".
  static void bool(Document d, String field, String value, boolean absentIsFalse) {
    if (value.isEmpty() && absentIsFalse) {
      value = "false";
    }
    if (value.isEmpty()) {
      return;
    }
    d.add(new StringField(field, value.equals("true") ? "T" : "F", Field.Store.NO));
    d.add(new StringField(FIELD_NAMES, field, Field.Store.NO));
  }

  static String answer(IndexSearcher searcher, Analyzer analyzer, String text, long now, boolean refuseUnknown) {
    Query q;
    try {
      q = new EsQueryParser(analyzer, now, refuseUnknown).parseQuery(text);
    } catch (ParseException e) {
      return "syntax\t" + oneLine(e.getMessage());
    } catch (RuntimeException e) {
      return "refused\t" + oneLine(e.getMessage());
    }
    try {
      List<String> ids = new ArrayList<>();
      for (ScoreDoc hit : searcher.search(q, Integer.MAX_VALUE).scoreDocs) {
        ids.add(searcher.storedFields().document(hit.doc).get("id"));
      }
      ids.sort(null);
      return "ok\t" + String.join(",", ids);
    } catch (IOException | RuntimeException e) {
      return "refused\t" + oneLine(String.valueOf(e.getMessage()));
    }
  }

  /** Whether the classic parser reads text, whatever its leaves would make of their values. */
  static boolean parses(String text) {
    QueryParser syntaxOnly = new QueryParser(null, new KeywordAnalyzer()) {
      private Query leaf() {
        return new TermQuery(new Term("x", "x"));
      }

      @Override
      protected Query getFieldQuery(String field, String queryText, boolean quoted) {
        return leaf();
      }

      @Override
      protected Query getFieldQuery(String field, String queryText, int slop) {
        return leaf();
      }

      @Override
      protected Query getRangeQuery(String field, String a, String b, boolean i, boolean j) {
        return leaf();
      }

      @Override
      protected Query getWildcardQuery(String field, String termStr) {
        return leaf();
      }

      @Override
      protected Query getPrefixQuery(String field, String termStr) {
        return leaf();
      }

      @Override
      protected Query getRegexpQuery(String field, String termStr) {
        return leaf();
      }

      @Override
      protected Query getFuzzyQuery(String field, String termStr, float minSimilarity) {
        return leaf();
      }

      @Override
      protected float getFuzzyDistance(org.apache.lucene.queryparser.classic.Token t, String termStr) {
        return 1f;
      }
    };
    syntaxOnly.setDefaultOperator(QueryParser.Operator.AND);
    try {
      syntaxOnly.parse(text);
      return true;
    } catch (ParseException e) {
      return false;
    }
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replace('\t', ' ');
  }
}
