"""Essays and letters written for this project (never taken from a corpus), each with the band
range the fitted writing scorer must keep them in. Regression fixtures for tests/test_writing_scorer.py."""

# ruff: noqa: E501

from __future__ import annotations

from grader.scoring.base import TaskSpec

CITY_PROMPT = (
    "Some people think that young people should move to big cities to find better jobs, while others "
    "believe they should stay in their home towns. Discuss both views and give your own opinion. "
    "Write at least 250 words."
)
LETTER_PROMPT = (
    "You recently stayed at a hotel and were unhappy with the room and the service. Write an email to "
    "the hotel manager. Say what the problems were, how they affected your stay and what you would "
    "like the hotel to do. Write at least 120 words."
)
TASK2 = TaskSpec("writing", "writing_task_2", CITY_PROMPT, 250)
TASK1 = TaskSpec("writing", "writing_task_1", LETTER_PROMPT, 120)

WEAK_145 = """Nowaday many young people go to big city for find job. I think it have good and bad thing. In big city there is many company and the salary is more higher than in my town, so young people can earn many money and they can to buy house. But life in city is very expensive and people is very busy, they dont have time for family. my friend go to Hanoi last year and he say he feel lonely and he miss his parent every day. Also the traffic is terrible and the air is very polution. In my home town life is more easy and cheap and people is friendly. But there is not many good job and the salary is low. In my opinion young people should go to the city when they are young for have experience and after they can come back to home town. This is my opinion about this topic."""

B1_ESSAY = """Nowadays, many young people leave their home towns and move to big cities. Some people think this is a good idea, but others think young people should stay at home. In this essay I will discuss both views.

On the one hand, big cities have more jobs and the salaries are higher. For example, my cousin moved to Ho Chi Minh City after university and now she works for a big company. She earns much more money than her friends in our town. Cities also have better universities, hospitals and entertainment, so young people can learn new skills and meet many people.

On the other hand, life in a big city is not easy. The rent is very expensive and the traffic is terrible. Many young people work very long hours and they feel lonely because their families are far away. In my home town, life is cheaper and quieter, and people help each other. If young people stay, they can also help their home town to develop.

In my opinion, young people should move to a city for a few years to study and get experience, because this is important for their future. However, I think they should come back later and use their knowledge to improve their home towns. In conclusion, both views have good points, but I believe a balance is the best choice for most young people."""

C1_ESSAY = """It is often argued that ambitious young adults have little choice but to leave their home towns for the opportunities that only large cities can offer. Others maintain that this exodus drains rural communities of talent and that young people would be better served by building their lives where they grew up. While I accept that cities offer undeniable advantages at the start of a career, I believe the decision should depend on the individual rather than on a general rule.

Those who favour moving to the city point, with some justification, to the concentration of employers, specialised training and professional networks found there. A graduate in engineering or finance, for instance, may simply be unable to find a position that matches her qualifications in a small provincial town. Moreover, exposure to a diverse and competitive environment tends to accelerate personal growth: young people learn to manage their own finances, adapt to unfamiliar situations and collaborate with colleagues from very different backgrounds.

Nevertheless, the costs of this migration are considerable and frequently underestimated. Soaring rents and long commutes can consume much of the higher salary that attracted newcomers in the first place, and many of them experience isolation far from their families. At the same time, the communities they leave behind lose precisely the energetic, well-educated residents who could revitalise local businesses and public services. Remote working, which has become far more widespread in recent years, also weakens the assumption that a rewarding career requires a city address.

On balance, I am convinced that neither option is inherently superior. Young people whose ambitions genuinely depend on urban institutions should not hesitate to move, yet those whose work can be done from anywhere may find that staying at home offers a richer and more affordable life. Governments, for their part, ought to invest in rural infrastructure and connectivity so that this becomes a real choice rather than a matter of necessity."""

OFF_TOPIC = """My favourite hobby is cooking traditional food with my grandmother. Every Sunday morning we go to the market together and choose fresh vegetables, fish and herbs. She always teaches me how to recognise good ingredients and how to bargain politely with the sellers.

Back in her kitchen, we spend several hours in the kitchen preparing soup, spring rolls and grilled fish. My grandmother never uses a recipe because she has cooked these dishes for more than fifty years. I write down everything she does in a small notebook, because I want to remember her methods when I have my own family.

Cooking with her has taught me patience and respect for our culture. The meals we share with the whole family on Sunday evenings are the happiest moments of my week, and I hope this tradition will continue for many years. I also enjoy trying new dishes from other countries, such as Italian pasta and Japanese curry, and sometimes my grandmother is brave enough to taste them too, although she usually says that she prefers our own dishes."""

LETTER_B2 = """Dear Sir or Madam,

I am writing to complain about my stay at your hotel from 12 to 15 March. Unfortunately, both the room and the service were far below what I had expected from a four-star hotel.

First of all, the air conditioning in my room did not work, so it was extremely hot at night and I could hardly sleep. When I reported the problem at reception, I was told that a technician would come the same evening, but nobody arrived. Moreover, the bathroom had not been cleaned properly and there were no fresh towels on two of the three days.

As I was attending an important conference, the lack of sleep affected my work and made the whole trip rather stressful.

I would therefore be grateful if you could refund at least part of the cost of my stay, and I hope you will make sure that these problems do not happen to other guests.

I look forward to hearing from you.

Yours faithfully,
Lan Nguyen"""

PLANTED = "He go to school every day. She have a informations about the trip. We can to swim in the lake. He has went home, it is very late."
"""Planted errors: 'go' (agreement), 'have' (agreement), 'a informations' (article), 'can to' (verb form),
'has went' (verb form), ', it is' (comma splice)."""

PLANTED_ERRORS: tuple[tuple[str, str], ...] = (
    ("go", "He go to"),
    ("have", "She have"),
    ("a", "a informations"),
    ("can to", "can to"),
    ("went", "has went"),
    (",", ", it is"),
)
"""(the span the grammar feedback must mark, a unique piece of PLANTED around it)."""

LETTER_SHORT_GOOD = """Dear Manager,

I am writing to complain about my recent stay at your hotel. The air conditioning in my room did not work, so I could hardly sleep, and nobody came to repair it although I asked twice at reception.

Moreover, the bathroom was dirty and there were no clean towels. Because I was attending an important conference, the lack of sleep affected my work.

I would be grateful if you could refund part of the cost and make sure this does not happen again.

Yours faithfully,
Lan Nguyen"""
"""A well-written letter of about 90 words to the 120-word Task 1: under the minimum, so penalised
(no criterion above 5.5), but not to nothing."""

FIXTURES: dict[str, tuple[TaskSpec, str, float, float]] = {
    "weak_145_words_task2": (TASK2, WEAK_145, 0.0, 5.5),
    "b1_essay": (TASK2, B1_ESSAY, 4.0, 7.0),
    "c1_essay": (TASK2, C1_ESSAY, 8.5, 10.0),
    "off_topic": (TASK2, OFF_TOPIC, 0.0, 5.0),
    "letter_b2": (TASK1, LETTER_B2, 6.0, 9.0),
    "letter_short_good": (TASK1, LETTER_SHORT_GOOD, 4.5, 5.5),
}
"""name -> (task, answer, lowest and highest overall allowed)."""
