package experiment

import (
	"context"

	"github.com/terrarium-evals/terrarium/agent"
	"github.com/terrarium-evals/terrarium/episode"
	"github.com/terrarium-evals/terrarium/judge"
	"github.com/terrarium-evals/terrarium/ledger"
	"github.com/terrarium-evals/terrarium/sandbox"
	"github.com/terrarium-evals/terrarium/tools/scenario"
)

// JudgeRun is judge.RunJudge.Run, kept for serve until it moves to
// episode in the next commit.
func JudgeRun(ctx context.Context, db *ledger.DB, rules *judge.Rules, runID int64) error {
	_, err := judge.RunJudge{Rules: rules}.Run(ctx, db, runID)
	return err
}

// ReplayHistory is episode.ReplayHistory, kept for serve until it moves
// to episode in the next commit.
func ReplayHistory(ctx context.Context, rec *sandbox.Recorder, turns []scenario.HistoryTurn) ([]agent.Message, error) {
	return episode.ReplayHistory(ctx, rec, turns)
}
