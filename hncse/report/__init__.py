"""The self-contained HTML report of a results folder (``hncse report``)."""
