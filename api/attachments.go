package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/media"
)

// AttachmentHandler streams a stored attachment (GET /v1/attachments/:id).
func AttachmentHandler(blobs media.Store) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, ct, err := blobs.Open(c.Request().Context(), c.Param("id"))
		if errors.Is(err, intake.ErrNotFound) {
			return writeProblem(c, problem(http.StatusNotFound, "not-found", "Not found", "No such attachment."))
		}
		if err != nil {
			return err
		}
		defer r.Close()
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.Response().Header().Set("X-Content-Type-Options", "nosniff")
		c.Response().Header().Set(echo.HeaderContentType, ct)
		c.Response().WriteHeader(http.StatusOK)
		_, err = io.Copy(c.Response(), r)
		return err
	}
}
