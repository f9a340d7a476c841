"""Small word lists the offline scorer uses (written for this project)."""

from __future__ import annotations

STOPWORDS: frozenset[str] = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her
    here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
    itself let's me more most mustn't my myself no nor not of off on once only or other ought our ours
    ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's which while who who's whom why why's will with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves just may might must shall also many much
    one two three us well really get got make made lot lots thing things think like""".split()
)

INSTRUCTION_WORDS: frozenset[str] = frozenset(
    """write words least letter email reply should say whether give reasons reason examples example
    relevant knowledge experience discuss both views opinion own support answer extent agree disagree
    position include addresses need describe explain suggest tell ask asked recommend""".split()
)
"""Words of the task instructions, ignored when measuring relevance to the prompt."""

COHESION_DEVICES: tuple[str, ...] = (
    "however",
    "moreover",
    "furthermore",
    "in addition",
    "additionally",
    "firstly",
    "first of all",
    "secondly",
    "thirdly",
    "finally",
    "lastly",
    "in conclusion",
    "to conclude",
    "to sum up",
    "in summary",
    "for example",
    "for instance",
    "such as",
    "on the other hand",
    "on the one hand",
    "in contrast",
    "by contrast",
    "whereas",
    "although",
    "even though",
    "nevertheless",
    "nonetheless",
    "therefore",
    "thus",
    "hence",
    "as a result",
    "consequently",
    "because of",
    "due to",
    "in my opinion",
    "in my view",
    "personally",
    "as well as",
    "not only",
    "similarly",
    "likewise",
    "in fact",
    "indeed",
    "meanwhile",
    "otherwise",
    "instead",
    "overall",
    "to begin with",
    "what is more",
    "as a consequence",
    "in other words",
    "that is why",
    "this means",
    "apart from",
)

SUBORDINATORS: frozenset[str] = frozenset(
    """because although though while whereas since unless if when whenever which who whom whose where
    that until after before so once""".split()
)
"""Words that usually open a subordinate or relative clause (a proxy for complex sentences)."""

ACADEMIC_WORDS: frozenset[str] = frozenset(
    """analyse analyze approach assess benefit beneficial concept consequence considerable consistent
    contribute crucial demonstrate derive detrimental distribute economy economic environment
    environmental establish estimate evaluate evidence factor function identify impact indicate
    individual interpret involve issue maintain method occur perceive perspective policy principle
    priority process promote potential require research resource respond role significant similar source
    specific strategy structure sufficient sustainable theory vary alternative enhance facilitate
    implement regulate adequate acquire advocate inevitable predominantly undoubtedly substantial
    efficient efficiency productivity flexibility collaboration community essential fundamental
    particular generation opportunity responsibility solution access affect aspect available challenge
    communicate communication concentrate consume consumption contrast convenient create culture
    decline despite develop development emphasis ensure eventually expand financial focus furthermore
    global however illustrate income increase instance instead interaction maintain nevertheless
    obvious obtain option outcome participate period positive negative relevant reduce reliance
    significant society stress technology therefore tradition transport valuable whereas wellbeing""".split()
)

FILLERS: frozenset[str] = frozenset({"um", "uh", "er", "erm", "ah", "hmm", "mm", "uhm", "eh"})
"""Filled pauses in a speaking transcript."""
