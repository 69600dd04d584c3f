"""What people ask and what we could not answer: analytics events, statistics, reports."""
