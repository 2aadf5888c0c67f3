"""movierec: the team's movie recommender (candidates -> ranking -> business rules).

`movierec.pipeline.build_recommender()` builds the production pipeline from
`config/pipeline.toml`; see README.md for the stages.
"""
