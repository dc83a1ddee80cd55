package open311

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Datatypes of a service definition's attribute, as the spec names them.
const (
	TypeString          = "string"
	TypeNumber          = "number"
	TypeDatetime        = "datetime"
	TypeText            = "text"
	TypeSingleValueList = "singlevaluelist"
	TypeMultiValueList  = "multivaluelist"
)

// Category is one category of the taxonomy, as the service list shows it.
type Category struct {
	Code string
	// Name is the category's Chinese name.
	Name string
	// Keywords are phrases that name the category on their own.
	Keywords []string
}

// Catalog is what the service list says beyond the taxonomy: a group and a description per
// category, and the attributes a category asks for (configs/open311.yaml).
type Catalog struct {
	Version  int                    `yaml:"version"`
	Services map[string]ServiceInfo `yaml:"services"`
}

// ServiceInfo is one category's entry of the catalog.
type ServiceInfo struct {
	Group       string      `yaml:"group"`
	Description string      `yaml:"description"`
	Attributes  []Attribute `yaml:"attributes"`
}

// Attribute is one field of a service definition.
type Attribute struct {
	Code                string  `yaml:"code"`
	Datatype            string  `yaml:"datatype"`
	Required            bool    `yaml:"required"`
	Description         string  `yaml:"description"`
	DatatypeDescription string  `yaml:"datatype_description"`
	Values              []Value `yaml:"values"`
}

// Value is one choice of a list attribute.
type Value struct {
	Key  string `yaml:"key"`
	Name string `yaml:"name"`
}

// codePattern is what an attribute code may be: it travels in form keys ("attribute[code]") and
// becomes part of a metadata key, so nothing that could be mistaken for syntax.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseCatalog reads a catalog file. Unknown keys, unknown datatypes and list attributes without
// values are errors, so a mistake is found at load rather than by a client.
func ParseCatalog(data []byte) (Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Catalog{}, fmt.Errorf("open311 catalog: %w", err)
	}
	if c.Version != 1 {
		return Catalog{}, fmt.Errorf("open311 catalog: version: must be 1, got %d", c.Version)
	}
	var errs []string
	for code, s := range c.Services {
		seen := map[string]bool{}
		for i, a := range s.Attributes {
			at := fmt.Sprintf("services.%s.attributes[%d]", code, i)
			if !codePattern.MatchString(a.Code) {
				errs = append(errs, at+".code: must be 1 to 64 letters, digits, '_', '.' or '-'")
			}
			if seen[a.Code] {
				errs = append(errs, at+".code: "+a.Code+" is defined twice")
			}
			seen[a.Code] = true
			switch a.Datatype {
			case TypeString, TypeNumber, TypeDatetime, TypeText:
				if len(a.Values) > 0 {
					errs = append(errs, at+".values: only list datatypes take values")
				}
			case TypeSingleValueList, TypeMultiValueList:
				if len(a.Values) == 0 {
					errs = append(errs, at+".values: a list datatype needs values")
				}
				for _, v := range a.Values {
					if strings.TrimSpace(v.Key) == "" || strings.TrimSpace(v.Name) == "" {
						errs = append(errs, at+".values: every value needs a key and a name")
					}
				}
			default:
				errs = append(errs, fmt.Sprintf("%s.datatype: %q is not one of string, number, datetime, text, singlevaluelist, multivaluelist", at, a.Datatype))
			}
			if strings.TrimSpace(a.Description) == "" {
				errs = append(errs, at+".description: is required (clients show it as the question)")
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return Catalog{}, fmt.Errorf("open311 catalog: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// Service is one entry of the service list with its definition.
type Service struct {
	Code        string
	Name        string
	Description string
	Group       string
	Keywords    []string
	Attributes  []Attribute
}

// Services joins the taxonomy's categories with the catalog, in the taxonomy's order. A catalog
// entry for a category the taxonomy does not have is an error: it would describe a service no
// client can file.
func Services(categories []Category, c Catalog) ([]Service, error) {
	known := map[string]bool{}
	out := make([]Service, 0, len(categories))
	for _, cat := range categories {
		known[cat.Code] = true
		info := c.Services[cat.Code]
		out = append(out, Service{
			Code: cat.Code, Name: cat.Name, Description: info.Description, Group: info.Group,
			Keywords: cat.Keywords, Attributes: info.Attributes,
		})
	}
	var unknown []string
	for code := range c.Services {
		if !known[code] {
			unknown = append(unknown, code)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("open311 catalog: services %s are not categories of the taxonomy", strings.Join(unknown, ", "))
	}
	return out, nil
}
