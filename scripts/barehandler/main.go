// Command barehandler is the yardstick for the gateway's intake speed: the least a Go service
// can do to accept a submission durably — echo, a validated JSON body, one pgx INSERT committed
// per request, a 201 with the new id. scripts/bench-bare.sh drives it and the gateway with the
// same requests in the same run, so the ratio between them says what the gateway's own work
// (authentication, idempotency, normalisation, classification, case numbers, the outbox and its
// jobs) costs on this machine.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

type submission struct {
	Channel string `json:"channel" validate:"required,oneof=phone wechat sms weibo rest"`
	Citizen struct {
		Name  string `json:"name" validate:"max=100"`
		Phone string `json:"phone" validate:"max=32"`
	} `json:"citizen"`
	Text     string `json:"text" validate:"required,max=10000"`
	Location struct {
		Address string `json:"address" validate:"max=500"`
	} `json:"location"`
}

type binder struct{ v *validator.Validate }

func (b binder) Validate(i any) error { return b.v.Struct(i) }

const schema = `CREATE TABLE IF NOT EXISTS bare_submissions (
	id uuid PRIMARY KEY,
	idempotency_key text UNIQUE,
	channel text NOT NULL,
	citizen_phone text,
	body jsonb NOT NULL,
	received_at timestamptz NOT NULL)`

func main() {
	listen := flag.String("listen", "127.0.0.1:18095", "address to serve on")
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL")
	conns := flag.Int("conns", 32, "pool size")
	flag.Parse()

	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		log.Fatalf("parse database URL: %v", err)
	}
	cfg.MaxConns = int32(*conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		log.Fatalf("create table: %v", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Validator = binder{validator.New()}
	e.POST("/v1/submissions", func(c echo.Context) error {
		var s submission
		if err := c.Bind(&s); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON")
		}
		if err := c.Validate(&s); err != nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
		}
		id := uuid.New()
		var key *string
		if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
			key = &k
		}
		if _, err := pool.Exec(c.Request().Context(),
			`INSERT INTO bare_submissions (id, idempotency_key, channel, citizen_phone, body, received_at)
			 VALUES ($1, $2, $3, $4, $5, $6)`,
			id, key, s.Channel, s.Citizen.Phone, s, time.Now()); err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "store unavailable")
		}
		return c.JSON(http.StatusCreated, map[string]string{"id": id.String(), "status": "received"})
	})
	log.Printf("barehandler on %s", *listen)
	if err := e.Start(*listen); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
