"""Names vulture reports as unused that are used: Typer commands, dataclass fields read by name, Hugging Face
callbacks and attributes of library objects, test helpers. Regenerate: vulture openrs_cli --make-whitelist."""

# ruff: noqa
filter_command  # unused function (openrs_cli/cli/data.py:153)
copy_command  # unused function (openrs_cli/cli/recipes.py:61)
_.padding_side  # unused attribute (openrs_cli/eval/backends/transformers_backend.py:45)
_.TASKS_TABLE  # unused attribute (openrs_cli/eval/scoring.py:32)
_.pre_tokenizer  # unused attribute (openrs_cli/localmodels.py:46)
_.decoder  # unused attribute (openrs_cli/localmodels.py:52)
_.chat_template  # unused attribute (openrs_cli/localmodels.py:65)
build_tiny_model  # unused function (openrs_cli/localmodels.py:69)
cosine_max_len  # unused variable (openrs_cli/rewards/options.py:21)
cosine_min_value_wrong  # unused variable (openrs_cli/rewards/options.py:22)
cosine_max_value_wrong  # unused variable (openrs_cli/rewards/options.py:25)
cosine_min_value_correct  # unused variable (openrs_cli/rewards/options.py:28)
cosine_max_value_correct  # unused variable (openrs_cli/rewards/options.py:31)
repetition_n_grams  # unused variable (openrs_cli/rewards/options.py:34)
repetition_max_penalty  # unused variable (openrs_cli/rewards/options.py:35)
reward_workers  # unused variable (openrs_cli/rewards/options.py:36)
pass_at_k  # unused variable (openrs_cli/stats.py:18)
recipe_description  # unused variable (openrs_cli/train/fields.py:35)
_.on_log  # unused method (openrs_cli/train/trainer.py:111)
_.on_step_end  # unused method (openrs_cli/train/trainer.py:134)
_.should_save  # unused attribute (openrs_cli/train/trainer.py:136)
_.should_training_stop  # unused attribute (openrs_cli/train/trainer.py:137)
seed_mean  # unused variable (openrs_cli/stats.py:27): a TaskStats field, read through to_dict
seed_std  # unused variable (openrs_cli/stats.py:28)
