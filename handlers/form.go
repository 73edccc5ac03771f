package handlers

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
)

// formValue reads a field of the request body, never the query string:
// credentials and tokens in a URL end up in logs, history and Referer
// headers, so a form that puts them there is not accepted. The result is a
// copy, safe to keep.
func formValue(c *fiber.Ctx, name string) string {
	if bytes.HasPrefix(c.Request().Header.ContentType(), []byte(fiber.MIMEMultipartForm)) {
		f, err := c.MultipartForm()
		if err != nil || len(f.Value[name]) == 0 {
			return ""
		}
		return f.Value[name][0]
	}
	return string(c.Request().PostArgs().Peek(name))
}
