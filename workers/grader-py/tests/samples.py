"""Answers written for the tests (not real learner data)."""

REMOTE_WORK_PROMPT = (
    "More and more companies allow their employees to work from home for several days a week. Some people "
    "believe this benefits both workers and employers, while others think it harms teamwork and "
    "productivity.\nDiscuss both views and give your own opinion. Use reasons and relevant examples from "
    "your own knowledge or experience.\nWrite at least 250 words."
)

GOOD_ESSAY = """In recent years, a growing number of companies have allowed their employees to work from home for part of the week. While some people believe that this arrangement benefits both workers and employers, others argue that it damages teamwork and productivity. In my opinion, the advantages clearly outweigh the disadvantages, provided that the policy is managed carefully.

On the one hand, working from home offers significant benefits. Firstly, employees save the time and money they would otherwise spend commuting, which means they can start work feeling less stressed. For example, my cousin, who used to spend two hours a day in traffic, now uses that time to exercise and concentrate on demanding tasks. Secondly, employers can reduce the cost of renting large offices. As a result, a flexible policy can increase both wellbeing and efficiency.

On the other hand, critics point out that remote work can weaken collaboration. When colleagues rarely meet in person, it becomes harder to share ideas informally, and new staff may struggle to learn from experienced workers. Furthermore, some employees find it difficult to separate their professional and private lives, so they work longer hours and eventually feel exhausted. These are genuine problems that managers should not ignore.

However, I believe these challenges can be solved. Companies could ask teams to come to the office on the same days, so that meetings and training happen face to face. In addition, clear rules about working hours would protect employees from burnout.

In conclusion, although working from home may harm teamwork if it is poorly organised, a balanced approach allows businesses and their staff to enjoy greater flexibility and productivity. Therefore, I strongly support this trend."""

SHORT_ESSAY = """Working from home is good for workers because they dont need to go to the office. But some employers think it is bad for teamwork. I think working from home is good."""

OFF_TOPIC_ESSAY = """Football is the most popular sport in the world, and millions of fans watch the biggest matches on television every weekend. I have supported my local club since I was a child, and I still remember the first match my father took me to see at the old stadium.

There are many reasons why football is so exciting. Firstly, the game is simple to understand, so anyone can enjoy it. A ball and a few friends are enough to start playing in a park or on a beach. Secondly, the atmosphere in a stadium is unforgettable. Thousands of supporters sing songs, wave flags and celebrate together when their team scores a goal.

However, football also has some problems. Tickets for important matches have become very expensive, and many young fans cannot afford them. Furthermore, some players earn enormous salaries, which seems unfair when nurses and teachers are paid so little. In addition, violence between rival supporters still happens in some countries.

In my opinion, football brings people together more than it divides them. For example, during international tournaments, whole cities gather to watch the national team, and strangers hug each other after a victory. Clubs should keep ticket prices low so that families can attend, and the authorities should punish violent behaviour strictly.

In conclusion, although football is not perfect, it remains a wonderful game that gives pleasure to billions of people. I will continue to follow my team for the rest of my life, whatever happens on the pitch."""

SPEAKING_PROMPT = (
    "Let us talk about your free time.\n- What do you usually do at the weekend?\n- Do you prefer spending "
    "free time alone or with other people? Why?\n- Is there a hobby you would like to start in the future?\n"
    "Now let us talk about food.\n- What kind of food do you like to cook or eat?\n- Do people in your "
    "country eat out more often than they used to?\n- Is it important for children to learn to cook? Why or "
    "why not?"
)

SPEAKING_TRANSCRIPT = """At the weekend I usually, um, go to the market with my mother in the morning, and in the afternoon I play badminton with my friends. I prefer spending free time with other people because it is more fun and we can talk about our week. However, sometimes I like to stay alone and read a book. In the future I would like to start learning the guitar, because music helps me relax. About food, I really like cooking Vietnamese dishes such as pho and spring rolls. Uh, I think people in my country eat out more often than they used to, because restaurants are cheap and people are busy. Finally, I believe it is important for children to learn to cook, since it teaches them to be independent and healthy."""
