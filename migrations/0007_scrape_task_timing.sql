-- When a task's current run started and when it finished, for the queue's timings.
ALTER TABLE scrape_task ADD COLUMN started_at TIMESTAMPTZ, ADD COLUMN finished_at TIMESTAMPTZ;
