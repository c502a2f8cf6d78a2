"""The class's messages to people (lib.messages' way: an id and its English source text, marked for the catalogs),
added to lib.messages.TEXT when lib.classroom is imported; the training path never needs them."""

from lib.messages import N_, TEXT

CLASS_TEXT = {
    "class.bad_code": N_("“{code}” is not a class code: a class code has {length} letters and digits, like "
                         "{example}."),
    "class.unknown_code": N_("There is no class with the code {code}."),
    "class.closed": N_("The class {code} is closed: it takes no new students and records no more runs."),
    "class.full": N_("The class {code} is full: it has its {n} students."),
    "class.too_many_tries": N_("Too many wrong tries from here: wait {minutes} minutes, then try again."),
    "class.wrong_token": N_("This teacher token does not open the class {code}."),
    "class.wrong_key": N_("That is not this server's teacher key."),
    "class.no_key": N_("This server has no teacher key (ROW_BY_ROW_TEACHER_KEY), so it offers no teacher controls."),
    "class.bad_nickname": N_("A nickname has at most {n} characters and no control characters."),
    "class.not_student": N_("This link's student token does not belong to the class {code}."),
    "class.bad_setting": N_("“{setting}” cannot vary in a class experiment; choose one of: {choices}"),
    "class.value_count": N_("Give between 2 and {high} values, separated by commas."),
    "class.value_twice": N_("The value {value} is given twice."),
    "class.value_rejected": N_("The value {value} cannot be used: {why}"),
    "class.bad_preset": N_("There is no preset “{name}”; choose one of: {choices}"),
    "class.base_capped": N_("The base setup keeps this server's classroom limits: {setting} is {value:,}."),
    "class.bad_number": N_("The {what} must be a whole number from 1 to {high:,}."),
    "class.unavailable": N_("The class database cannot be reached right now ({detail}). Training works as usual: "
                            "your finished runs are kept and recorded in the class when it is back."),
    "class.cloud_file": N_("This app runs on {platform} with the class records in a {file} file, and that disk does "
                           "not survive a restart of the app: the records would be lost. Set ROW_BY_ROW_DB to a "
                           "{server} database."),
    "class.caption_empty": N_("No class run has finished yet: the points appear here as the students' runs end."),
    "class.caption_runs": N_("Class runs in the figures: {runs}; left out (stopped, failed or not learning): "
                             "{left_out}."),
    "class.caption_best": N_("{value} is best: {acc:.1%} on average (n = {n} runs), beyond the noise of every other "
                             "value."),
    "class.caption_need_runs": N_("No value is named best until some value has at least two runs (two seeds show "
                                  "the noise); so far one run or none: {values}."),
    "class.caption_no_best": N_("No value is best beyond the noise: the highest mean, {value} ({acc:.1%}), is "
                                "within the noise of {others}."),
    "class.caption_spread": N_("Runs of one setup with other seeds differ too: at {value} their accuracies have a "
                               "standard deviation of {sd:.2%} (n = {n} runs). A difference smaller than that "
                               "proves nothing."),
    "class.caption_order": N_("Row order {order}: {mean:.2%} ± {half:.2%} (95% interval), pooled over the class's "
                              "runs (n = {n}), each student's run a seed."),
}
TEXT.update(CLASS_TEXT)
