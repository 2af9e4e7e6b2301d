# feedmill's entry points. `make run` and `make test` are all a fresh
# machine with Go needs.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/feedmill/feedmill/internal/app.version=$(VERSION)
CONFIG  ?= feeds.yaml
FUZZTIME ?= 20s

# Where `make install` puts things; DESTDIR stages them elsewhere (for a
# package: make install DESTDIR=/tmp/pkg).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
UNITDIR ?= /etc/systemd/system
CONFDIR := /etc/feedmill
IMAGE   ?= feedmill

.PHONY: build run fetch check test compat bench bench-go lint fuzz clean install uninstall docker

## build: the static binary bin/feedmill, version stamped
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/feedmill ./cmd/feedmill

## run: build, then serve the shipped feeds.yaml with the embedded SQLite store
run: build
	./bin/feedmill serve -config $(CONFIG)

## fetch: one refresh of every source of feeds.yaml, then exit
fetch: build
	./bin/feedmill fetch -config $(CONFIG)

## check: validate feeds.yaml
check: build
	./bin/feedmill check -config $(CONFIG)

## test: the whole suite, with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...

## compat: only the tests that judge every published document with
## ../shared/tools/feedcheck (xmllint, Python feedparser, newsboat, RFC rules)
compat:
	$(GO) test -count=1 -run 'TestCompat|TestFeedcheck|TestEndToEnd|TestFullTextCleanArticles' ./internal/app ./internal/publish

## bench: the performance suite of docs/PERFORMANCE.md: ingest, refresh
## and store-scale programs, then the serve benchmark (wrk, nginx)
bench:
	bench/run-ingest-refresh-scale.sh
	bench/serve.sh

## bench-go: only the Go benchmarks of the packages
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

## lint: vet, formatting, and staticcheck when it is installed
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## install: the binary to $(BINDIR), the systemd unit to $(UNITDIR), and
## the example config to /etc/feedmill/feeds.yaml unless one is there
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 bin/feedmill $(DESTDIR)$(BINDIR)/feedmill
	sed 's|/usr/local/bin/feedmill|$(BINDIR)/feedmill|' deploy/feedmill.service > bin/feedmill.service
	install -m 0644 bin/feedmill.service $(DESTDIR)$(UNITDIR)/feedmill.service
	@if [ -e $(DESTDIR)$(CONFDIR)/feeds.yaml ]; then \
	  echo "kept $(DESTDIR)$(CONFDIR)/feeds.yaml"; \
	else \
	  install -m 0644 deploy/feeds.yaml $(DESTDIR)$(CONFDIR)/feeds.yaml; \
	  echo "installed the example $(DESTDIR)$(CONFDIR)/feeds.yaml: edit its sources"; \
	fi
	@if [ -z "$(DESTDIR)" ]; then echo "then: systemctl daemon-reload && systemctl enable --now feedmill"; fi

## uninstall: remove the binary and the unit; the config and the store
## (/var/lib/feedmill) stay
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/feedmill $(DESTDIR)$(UNITDIR)/feedmill.service

## docker: the container image $(IMAGE):$(VERSION) (see Dockerfile)
docker:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

clean:
	rm -rf bin
