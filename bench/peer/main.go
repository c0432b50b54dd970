// The seed design, as the peer that paydesk is measured against (bench/versus.sh):
// Go + Gin in release mode, one handler that verifies an Alipay notification (RSA2:
// SHA256withRSA, PKCS#1 v1.5, over the ASCII-sorted k=v&… string without sign, sign_type
// and empty values) and marks its order paid with one UPDATE, database/sql with one
// open connection; SQLite in WAL mode with synchronous=FULL, or Postgres (lib/pq).
//
// Built from Debian's packaged sources only (GOPATH mode, no module download):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/peer bench/peer/main.go
//
// Modes:
//
//	peer -driver sqlite3 -db FILE -seed orders.txt   # create the table, one pending order per line
//	peer -driver sqlite3 -db FILE -count             # print how many orders are paid
//	peer -driver sqlite3 -db FILE -pubkey alipay.pem -addr 127.0.0.1:PORT   # serve
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
)

func main() {
	driver := flag.String("driver", "sqlite3", "sqlite3 or postgres")
	dsn := flag.String("db", "", "SQLite file or Postgres URL")
	seed := flag.String("seed", "", "create the orders table with these pending order numbers (one a line) and exit")
	count := flag.Bool("count", false, "print the number of paid orders and exit")
	pubkey := flag.String("pubkey", "", "Alipay public key (PEM, SPKI)")
	addr := flag.String("addr", "127.0.0.1:8090", "listen address (loopback)")
	flag.Parse()

	db, err := open(*driver, *dsn)
	if err != nil {
		log.Fatalf("peer: open: %v", err)
	}
	defer db.Close()
	switch {
	case *seed != "":
		err = seedOrders(db, *driver, *seed)
	case *count:
		var n int64
		err = db.QueryRow("SELECT COUNT(*) FROM orders WHERE status = 'paid'").Scan(&n)
		fmt.Println(n)
	default:
		err = serve(db, *driver, *pubkey, *addr)
	}
	if err != nil {
		log.Fatalf("peer: %v", err)
	}
}

func open(driver, dsn string) (*sql.DB, error) {
	if driver == "sqlite3" {
		dsn = "file:" + dsn + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	// The seed design: one connection, so every UPDATE queues for it.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, db.Ping()
}

func seedOrders(db *sql.DB, driver, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS orders (
		out_trade_no TEXT PRIMARY KEY,
		status TEXT NOT NULL)`); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	stmt, err := tx.Prepare(placeholders(driver, "INSERT INTO orders (out_trade_no, status) VALUES (?, 'pending')"))
	if err != nil {
		return err
	}
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if no := strings.TrimSpace(lines.Text()); no != "" {
			if _, err := stmt.Exec(no); err != nil {
				return err
			}
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	return tx.Commit()
}

// placeholders turns ? into $1, $2… for Postgres.
func placeholders(driver, q string) string {
	if driver != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func loadKey(file string) (*rsa.PublicKey, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, errors.New("no PEM block in " + file)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rsaKey, nil
}

// verify checks Alipay's RSA2 signature over the sorted k=v&… of the other non-empty fields.
func verify(key *rsa.PublicKey, form map[string][]string) bool {
	keys := make([]string, 0, len(form))
	for k, v := range form {
		if k == "sign" || k == "sign_type" || len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(form[k][0])
	}
	sig, err := base64.StdEncoding.DecodeString(first(form["sign"]))
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(b.String()))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func serve(db *sql.DB, driver, pubkey, addr string) error {
	key, err := loadKey(pubkey)
	if err != nil {
		return err
	}
	update, err := db.Prepare(placeholders(driver,
		"UPDATE orders SET status = 'paid' WHERE out_trade_no = ? AND status = 'pending'"))
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	notify := func(c *gin.Context) {
		if err := c.Request.ParseForm(); err != nil {
			c.String(http.StatusBadRequest, "failure")
			return
		}
		form := c.Request.PostForm
		if !verify(key, form) {
			c.String(http.StatusBadRequest, "failure")
			return
		}
		if _, err := update.Exec(form.Get("out_trade_no")); err != nil {
			c.String(http.StatusInternalServerError, "failure")
			return
		}
		c.String(http.StatusOK, "success")
	}
	r.POST("/notify/alipay/:channel", notify)
	srv := &http.Server{Addr: addr, Handler: r}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
