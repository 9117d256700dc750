package shell

// environment returns the session's exported variables.
func (s *session) environment() map[string]string {
	out := make(map[string]string, len(s.vars))
	for k, v := range s.vars {
		if v.Exported && v.Set {
			out[k] = v.String()
		}
	}
	return out
}
