package sqlstore

import (
	"context"
	"reflect"
	"sync"
	"time"
)

// QueryObserver is told how long each statement took, by the statement's
// name (the field of Statements that holds it; "other" for statements of
// engine extras such as migrations), from its start until its rows were
// read.
type QueryObserver func(statement string, d time.Duration)

// WithQueryObserver times every statement the store runs (for a latency
// histogram by statement on /metrics).
func WithQueryObserver(f QueryObserver) Option { return func(o *Options) { o.Observe = f } }

// names maps each statement's text to its name in Statements, made once
// per SQL.
func (s *SQL) names() map[string]string {
	s.namesOnce.Do(func() {
		s.byText = map[string]string{}
		v := reflect.ValueOf(s.Statements)
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				s.byText[f.String()] = name
			case reflect.Slice:
				for j := range f.Len() {
					s.byText[f.Index(j).String()] = name
				}
			}
		}
	})
	return s.byText
}

// statementNames is SQL's lazily built index.
type statementNames struct {
	namesOnce sync.Once
	byText    map[string]string
}

// timed is a Querier that reports each statement's duration.
type timed struct {
	Querier
	names   map[string]string
	observe QueryObserver
}

func (s *SQL) timed(q Querier, f QueryObserver) Querier {
	if f == nil {
		return q
	}
	return timed{Querier: q, names: s.names(), observe: f}
}

func (t timed) name(query string) string {
	if n, ok := t.names[query]; ok {
		return n
	}
	return "other"
}

func (t timed) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	began := time.Now()
	n, err := t.Querier.Exec(ctx, query, args...)
	t.observe(t.name(query), time.Since(began))
	return n, err
}

func (t timed) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	began := time.Now()
	rows, err := t.Querier.Query(ctx, query, args...)
	if err != nil {
		t.observe(t.name(query), time.Since(began))
		return rows, err
	}
	return &timedRows{Rows: rows, done: func() { t.observe(t.name(query), time.Since(began)) }}, nil
}

func (t timed) QueryRow(ctx context.Context, query string, args ...any) Row {
	return &timedRow{Row: t.Querier.QueryRow(ctx, query, args...), began: time.Now(), name: t.name(query), observe: t.observe}
}

type timedRow struct {
	Row
	began   time.Time
	name    string
	observe QueryObserver
}

func (r *timedRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	r.observe(r.name, time.Since(r.began))
	return err
}

type timedRows struct {
	Rows
	done func()
	once sync.Once
}

func (r *timedRows) Close() {
	r.Rows.Close()
	r.once.Do(r.done)
}
