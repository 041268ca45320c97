package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// TamperNext makes the next successful token-endpoint answer carry an
// id_token whose claims change has edited, re-signed with the provider's
// own published key: a token the signature check accepts and the claim
// checks must refuse (another aud or iss, a wrong nonce, an exp in the
// past). The claims are the decoded JSON: numbers are float64, aud may be
// a string or a []any. Each call is consumed by one answer, in order.
func (p *Provider) TamperNext(change func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = append(p.tamper, change)
}

// ForeignKeyNext makes the next successful token-endpoint answer carry an
// id_token signed by a fresh RSA key the provider never published, under
// the key id of its real key: only a signature check can tell. Consumed
// by one answer, like TamperNext (both may apply to the same answer).
func (p *Provider) ForeignKeyNext() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.foreign = true
}

// takeRewrite takes the pending rewrite, if any: ok is false when the
// next token answer goes out as issued.
func (p *Provider) takeRewrite() (change func(map[string]any), foreign, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tamper) > 0 {
		change, p.tamper = p.tamper[0], p.tamper[1:]
	}
	foreign, p.foreign = p.foreign, false
	return change, foreign, change != nil || foreign
}

// rewriteTokens puts the TamperNext and ForeignKeyNext rewrites in front
// of the token endpoint. Only answers with status 200 and an id_token
// consume a pending rewrite.
func (p *Provider) rewriteTokens(next http.Handler) http.Handler {
	tokenPath := op.DefaultEndpoints.Token.Relative()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != tokenPath || !p.rewritePending() {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var answer map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &answer) == nil {
			if idToken, _ := answer["id_token"].(string); idToken != "" {
				change, foreign, _ := p.takeRewrite()
				rewritten, err := p.resign(r, idToken, change, foreign)
				if err != nil {
					http.Error(w, "oidctest: "+err.Error(), http.StatusInternalServerError)
					return
				}
				answer["id_token"] = rewritten
				if body, err = json.Marshal(answer); err != nil {
					http.Error(w, "oidctest: "+err.Error(), http.StatusInternalServerError)
					return
				}
			}
		}
		h := w.Header()
		for k, v := range rec.Header() {
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func (p *Provider) rewritePending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tamper) > 0 || p.foreign
}

// resign decodes idToken (issued by this provider a moment ago, so not
// verified again), applies change and signs the result with the
// provider's key, or a foreign one.
func (p *Provider) resign(r *http.Request, idToken string, change func(map[string]any), foreign bool) (string, error) {
	jws, err := jose.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", fmt.Errorf("parse id_token: %w", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return "", fmt.Errorf("decode id_token claims: %w", err)
	}
	if change != nil {
		change(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing, err := p.store.SigningKey(r.Context())
	if err != nil {
		return "", err
	}
	key, ok := signing.Key().(*rsa.PrivateKey)
	if !ok {
		return "", errors.New("signing key is not RSA")
	}
	if foreign {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return "", err
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: signing.SignatureAlgorithm(), Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), signing.ID()))
	if err != nil {
		return "", err
	}
	signed, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return signed.CompactSerialize()
}
