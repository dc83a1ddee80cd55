package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api/gen"
)

// maxAttachments and the metadata limits mirror openapi.yaml, which the generated binder does
// not enforce.
const (
	maxAttachments     = 20
	maxMetadataEntries = 50
	maxMetadataValue   = 1000
)

// CreateSubmission stores one operator-entered submission.
func (s *Server) CreateSubmission(ctx context.Context, req gen.CreateSubmissionRequestObject) (gen.CreateSubmissionResponseObject, error) {
	p, _ := PrincipalFrom(ctx)
	key, err := s.idempotencyKey(req.Params.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	sub, err := s.submission(p, *req.Body, key, RawBody(ctx))
	if err != nil {
		return nil, err
	}
	receipt, err := s.deps.Submitter.Submit(ctx, sub)
	if err != nil {
		return nil, err
	}
	view := intake.CaseView{Case: receipt.Case, Deliveries: receipt.Deliveries}
	if !receipt.Created {
		if view.Deliveries, err = s.deps.Store.Deliveries(ctx, receipt.Case.ID); err != nil {
			return nil, err
		}
		return gen.CreateSubmission200JSONResponse{Body: view, Headers: gen.CreateSubmission200ResponseHeaders{IdempotentReplayed: "true"}}, nil
	}
	return gen.CreateSubmission201JSONResponse{Body: view, Headers: gen.CreateSubmission201ResponseHeaders{Location: "/v1/cases/" + receipt.Case.ID}}, nil
}

// idempotencyKey checks the header. Absent is allowed (the body hash stands in for it); present
// but empty, too long or not printable ASCII is a 400.
func (s *Server) idempotencyKey(h *string) (string, error) {
	if h == nil {
		return "", nil
	}
	k := *h
	if k == "" {
		return "", idempotencyProblem("must not be empty")
	}
	if len(k) > s.deps.Limits.IdempotencyKey {
		return "", idempotencyProblem(fmt.Sprintf("is %d characters long; the limit is %d", len(k), s.deps.Limits.IdempotencyKey))
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return "", idempotencyProblem("must be printable ASCII without spaces")
		}
	}
	return k, nil
}

func idempotencyProblem(reason string) *ProblemError {
	return &ProblemError{Status: http.StatusBadRequest, Kind: "validation", Title: "Invalid Idempotency-Key",
		Detail: "The Idempotency-Key header " + reason + ".", Fields: []intake.FieldError{{Field: "Idempotency-Key", Reason: reason}}}
}

// submission maps a request to the channel-neutral submission. The external id is the
// Idempotency-Key, or the hash of the request when there is none, so that a byte-identical retry
// is still recognised. The payload hash is taken over the decoded request, so a retry that only
// reorders or re-spaces the JSON is the same request.
func (s *Server) submission(p Principal, body gen.SubmissionRequest, key string, raw []byte) (intake.Submission, error) {
	canonical, err := json.Marshal(body)
	if err != nil {
		return intake.Submission{}, fmt.Errorf("canonical request: %w", err)
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])
	if key == "" {
		key = "sha256:" + hash
	}
	var fields []intake.FieldError
	sub := intake.Submission{
		Channel:     intake.ChannelREST,
		ChannelID:   "rest:" + p.Name,
		ExternalID:  key,
		Text:        body.Text,
		Raw:         intake.RawPayload{ContentType: "application/json", Body: raw},
		PayloadHash: hash,
		Metadata:    map[string]string{},
	}
	if body.Channel != nil {
		sub.Channel = intake.ChannelKind(*body.Channel)
	}
	if body.OccurredAt != nil {
		sub.OccurredAt = *body.OccurredAt
	}
	if c := body.Citizen; c != nil {
		sub.Citizen = intake.CitizenInput{
			Name: deref(c.Name), Phone: deref(c.Phone), WeChatOpenID: deref(c.WechatOpenid),
			WeiboUID: deref(c.WeiboUid), Anonymous: derefBool(c.Anonymous), Confidential: derefBool(c.Confidential),
		}
	}
	if l := body.Location; l != nil {
		loc := &intake.Location{Address: deref(l.Address), District: deref(l.District)}
		if l.Lat != nil {
			lat := float64(*l.Lat)
			loc.Lat = &lat
		}
		if l.Lng != nil {
			lng := float64(*l.Lng)
			loc.Lng = &lng
		}
		if (loc.Lat == nil) != (loc.Lng == nil) {
			fields = append(fields, intake.FieldError{Field: "location", Reason: "lat and lng must be given together"})
		}
		sub.Location = loc
	}
	if body.Attachments != nil {
		if len(*body.Attachments) > maxAttachments {
			fields = append(fields, intake.FieldError{Field: "attachments", Reason: fmt.Sprintf("at most %d attachments", maxAttachments)})
		}
		for i, a := range *body.Attachments {
			switch u := deref(a.Url); {
			case u == "":
				fields = append(fields, intake.FieldError{Field: fmt.Sprintf("attachments[%d].url", i), Reason: "is required"})
			case intake.ForeignScheme(u):
				fields = append(fields, intake.FieldError{Field: fmt.Sprintf("attachments[%d].url", i), Reason: intake.ReasonURLScheme})
			}
			sub.Attachments = append(sub.Attachments, intake.Attachment{
				Kind: intake.AttachmentKind(a.Kind), URL: deref(a.Url), ContentType: deref(a.ContentType), Title: deref(a.Title),
			})
		}
	}
	if body.Category != nil {
		sub.OperatorCategory = *body.Category
	}
	if body.RequestType != nil {
		sub.OperatorRequestType = intake.RequestType(*body.RequestType)
	}
	if body.ExternalId != nil {
		sub.Metadata["client_ref"] = *body.ExternalId
	}
	if body.Metadata != nil {
		if len(*body.Metadata) > maxMetadataEntries {
			fields = append(fields, intake.FieldError{Field: "metadata", Reason: fmt.Sprintf("at most %d entries", maxMetadataEntries)})
		}
		for k, v := range *body.Metadata {
			if len([]rune(v)) > maxMetadataValue {
				fields = append(fields, intake.FieldError{Field: "metadata." + k, Reason: fmt.Sprintf("longer than %d characters", maxMetadataValue)})
			}
			sub.Metadata[k] = v
		}
	}
	if len(sub.Metadata) == 0 {
		sub.Metadata = nil
	}
	if len(fields) > 0 {
		return sub, &intake.ValidationError{Fields: fields}
	}
	return sub, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefBool(b *bool) bool { return b != nil && *b }

// batchParallelism bounds how many lines of one batch are in flight; it is what lets a batch
// share group-commit transactions instead of paying one commit per line.
const batchParallelism = 64

// CreateSubmissionBatch stores each NDJSON line as its own submission and reports per line.
func (s *Server) CreateSubmissionBatch(ctx context.Context, req gen.CreateSubmissionBatchRequestObject) (gen.CreateSubmissionBatchResponseObject, error) {
	p, _ := PrincipalFrom(ctx)
	batchKey, err := s.idempotencyKey(req.Params.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	type line struct {
		no  int
		raw []byte
	}
	var lines []line
	for i, l := range bytes.Split(RawBody(ctx), []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		lines = append(lines, line{no: i + 1, raw: l})
	}
	if len(lines) == 0 {
		return nil, problem(http.StatusBadRequest, "empty-batch", "Empty batch", "The batch has no lines.")
	}
	if len(lines) > s.deps.Limits.MaxBatchLines {
		return nil, problem(http.StatusRequestEntityTooLarge, "too-many-lines", "Too many lines",
			fmt.Sprintf("The batch has %d lines; the limit is %d.", len(lines), s.deps.Limits.MaxBatchLines))
	}

	results := make([]gen.BatchLineResult, len(lines))
	sem := make(chan struct{}, batchParallelism)
	var wg sync.WaitGroup
	for i, l := range lines {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = s.batchLine(ctx, p, batchKey, l.no, l.raw)
		}()
	}
	wg.Wait()

	out := gen.BatchResult{Results: results}
	for _, r := range results {
		switch r.Status {
		case gen.Created:
			out.Created++
		case gen.Duplicate:
			out.Duplicates++
		default:
			out.Failed++
		}
	}
	return gen.CreateSubmissionBatch200JSONResponse(out), nil
}

func (s *Server) batchLine(ctx context.Context, p Principal, batchKey string, no int, raw []byte) gen.BatchLineResult {
	res := gen.BatchLineResult{Line: no}
	fail := func(err error) gen.BatchLineResult {
		prob := toProblem(err).Problem("")
		res.Status, res.Error = gen.Error, &prob
		return res
	}
	var body gen.SubmissionRequest
	if err := decodeStrict(raw, &body); err != nil {
		return fail(err)
	}
	key := ""
	switch {
	case body.IdempotencyKey != nil:
		k, err := s.idempotencyKey(body.IdempotencyKey)
		if err != nil {
			return fail(err)
		}
		key = k
	case batchKey != "":
		key = batchKey + ":" + strconv.Itoa(no)
	}
	sub, err := s.submission(p, body, key, raw)
	if err != nil {
		return fail(err)
	}
	receipt, err := s.deps.Submitter.Submit(ctx, sub)
	if err != nil {
		var ce *intake.ConflictError
		if errors.As(err, &ce) || !errors.Is(err, intake.ErrInvalid) {
			s.deps.Logger.WarnContext(ctx, "batch line not stored", "line", no, "error", err.Error())
		}
		return fail(err)
	}
	res.Status = gen.Created
	if !receipt.Created {
		res.Status = gen.Duplicate
	}
	res.CaseId, res.CaseNo, res.QueryCode = &receipt.Case.ID, &receipt.Case.CaseNo, &receipt.Case.QueryCode
	return res
}
