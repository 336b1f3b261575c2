package repl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/chzyer/readline"
)

// lineReader reads input one line at a time.
type lineReader interface {
	// ReadLine returns the next line without its newline, after showing
	// prompt where there is someone to see it. It returns io.EOF at the
	// end of the input, errInterrupt when Ctrl-C discarded the line, and
	// ctx's error once ctx is done.
	ReadLine(ctx context.Context, prompt string) (string, error)
	Close() error
}

// plainReader reads lines from a pipe or a file: no prompts, no echo.
// A goroutine reads ahead one line, so that ReadLine can give up when its
// context ends while the input is silent.
type plainReader struct {
	lines chan lineOrErr
	done  chan struct{}
}

type lineOrErr struct {
	line string
	err  error
}

func newPlainReader(in io.Reader) *plainReader {
	p := &plainReader{lines: make(chan lineOrErr), done: make(chan struct{})}
	go func() {
		defer close(p.lines)
		br := bufio.NewReader(in)
		for {
			s, err := br.ReadString('\n')
			if s != "" {
				s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
				select {
				case p.lines <- lineOrErr{line: s}:
				case <-p.done:
					return
				}
			}
			if err != nil {
				select {
				case p.lines <- lineOrErr{err: err}:
				case <-p.done:
				}
				return
			}
		}
	}()
	return p
}

func (p *plainReader) ReadLine(ctx context.Context, _ string) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case l, ok := <-p.lines:
		if !ok {
			return "", io.EOF
		}
		return l.line, l.err
	}
}

func (p *plainReader) Close() error {
	close(p.done)
	return nil
}

// terminalReader reads lines from the process's terminal with
// chzyer/readline: line editing, history, Ctrl-R and tab completion.
type terminalReader struct {
	rl   *readline.Instance
	stop func() bool
}

func newTerminalReader(ctx context.Context, historyFile string, c *completer, echo io.Writer) (*terminalReader, error) {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            ps1,
		HistoryFile:       historyFile,
		HistorySearchFold: true,
		AutoComplete:      c,
		Stdout:            echo,
		Stderr:            echo,
	})
	if err != nil {
		return nil, err
	}
	// Readline returns io.EOF once closed: how a SIGTERM ends the prompt.
	stop := context.AfterFunc(ctx, func() { rl.Close() })
	return &terminalReader{rl: rl, stop: stop}, nil
}

func (t *terminalReader) ReadLine(ctx context.Context, prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case errors.Is(err, readline.ErrInterrupt):
		return "", errInterrupt
	}
	return line, err
}

func (t *terminalReader) Close() error {
	if !t.stop() {
		return nil // closed when the context ended
	}
	return t.rl.Close()
}
