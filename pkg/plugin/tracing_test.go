package plugin

import (
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// A query makes a span with its type and rows, and each CBC request a span within it.
func TestQueriesAndRequestsAreTraced(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tracing.InitDefaultTracer(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)).Tracer("test"))
	f := newFixture(t, cbcsim.Config{Seed: 3, EventsPerDay: 500}, nil)
	if res := f.run(t, dataQuery("A", `{"queryType":"search","limit":20}`)).Responses["A"]; res.Error != nil {
		t.Fatal(res.Error)
	}
	var query sdktrace.ReadOnlySpan
	for _, span := range recorder.Ended() {
		if span.Name() == "cbcauditlogs.query" {
			query = span
		}
	}
	requests := 0
	for _, span := range recorder.Ended() {
		if span.Name() == "cbc.search" && query != nil {
			requests++
			if span.Parent().SpanID() != query.SpanContext().SpanID() {
				t.Error("a CBC request's span is not within its query's")
			}
		}
	}
	if query == nil || requests == 0 {
		t.Fatalf("spans: a query span %v, %d request spans", query != nil, requests)
	}
	attributes := map[string]string{}
	for _, kv := range query.Attributes() {
		attributes[string(kv.Key)] = kv.Value.String()
	}
	if attributes["query.type"] != "search" || attributes["query.rows"] != "20" {
		t.Errorf("query span attributes %v", attributes)
	}
}
