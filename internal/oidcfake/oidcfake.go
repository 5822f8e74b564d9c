// Package oidcfake is a small OpenID Connect provider for tests: discovery,
// keys, an authorisation endpoint that signs in whoever it is told to at
// once, and a token endpoint that checks the client, the code and PKCE
// (S256) and returns an RS256-signed ID token. Knobs make it answer
// wrongly on purpose (another audience, an expired token, another nonce,
// a token endpoint that fails, a provider that is down), which a
// ready-made provider cannot.
package oidcfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Knobs change the provider's next answers.
type Knobs struct {
	// Email, when set, is the e-mail of whoever signs in; otherwise the
	// login_hint the client sent.
	Email string
	// Audience, when set, replaces the client ID in the token's aud.
	Audience string
	// Expired issues tokens that expired an hour ago.
	Expired bool
	// Nonce, when set, replaces the nonce the client sent.
	Nonce string
	// TokenDown answers the token endpoint with 503.
	TokenDown bool
	// Down answers every request with 503 (discovery too).
	Down bool
	// Denied answers the authorisation request with error=access_denied.
	Denied bool
}

type grant struct {
	email, nonce, challenge, redirect string
}

// Server is a running provider.
type Server struct {
	*httptest.Server
	ClientID, ClientSecret string

	key   *rsa.PrivateKey
	mu    sync.Mutex
	knobs Knobs
	codes map[string]grant
	// Authorized counts the authorisation requests it answered.
	authorized int
}

// New starts a provider; it stops at the end of the test with t.Cleanup
// when cleanup is given.
func New(clientID, clientSecret string, cleanup func(func())) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s := &Server{ClientID: clientID, ClientSecret: clientSecret, key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /keys", s.keys)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.knobs.Down
		s.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	if cleanup != nil {
		cleanup(s.Close)
	}
	return s
}

// Issuer is the provider's issuer URL.
func (s *Server) Issuer() string { return s.URL }

// Set replaces the knobs.
func (s *Server) Set(k Knobs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs = k
}

// Authorized is how many authorisation requests the provider answered.
func (s *Server) Authorized() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorized
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize", "token_endpoint": s.URL + "/token",
		"jwks_uri": s.URL + "/keys", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		"scopes_supported": []string{"openid", "email", "profile"},
	})
}

func (s *Server) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != s.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorisation request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	k := s.knobs
	s.authorized++
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if k.Denied {
		back.Set("error", "access_denied")
	} else {
		email := k.Email
		if email == "" {
			email = q.Get("login_hint")
		}
		code := random()
		s.mu.Lock()
		s.codes[code] = grant{email: email, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		s.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	k := s.knobs
	g, ok := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code"))
	s.mu.Unlock()
	if k.TokenDown {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if id != s.ClientID || secret != s.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	aud, nonce, exp := s.ClientID, g.nonce, now.Add(5*time.Minute)
	if k.Audience != "" {
		aud = k.Audience
	}
	if k.Nonce != "" {
		nonce = k.Nonce
	}
	if k.Expired {
		exp = now.Add(-time.Hour)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	claims := map[string]any{"iss": s.URL, "sub": "sub-" + g.email, "aud": aud, "exp": exp.Unix(), "iat": now.Add(-2 * time.Hour).Unix(),
		"nonce": nonce, "email": g.email, "email_verified": true}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": random(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func random() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
