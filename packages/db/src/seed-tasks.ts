import type { GradingMode, Skill, TaskPart } from '@vstep/contracts'

export type SeedTask = {
  slug: string
  skill: Skill
  part: TaskPart
  title: string
  prompt: string
  minWords: number
  timeLimitMinutes: number
  preparationSeconds: number
  speakingSeconds: number | null
  level: string
  gradingMode: GradingMode
}

const writing1 = (slug: string, title: string, prompt: string): SeedTask => ({
  slug,
  skill: 'writing',
  part: 'writing_task_1',
  title,
  prompt,
  minWords: 120,
  timeLimitMinutes: 20,
  preparationSeconds: 0,
  speakingSeconds: null,
  level: 'B1-C1',
  gradingMode: 'auto',
})
const writing2 = (slug: string, title: string, prompt: string): SeedTask => ({
  slug,
  skill: 'writing',
  part: 'writing_task_2',
  title,
  prompt,
  minWords: 250,
  timeLimitMinutes: 40,
  preparationSeconds: 0,
  speakingSeconds: null,
  level: 'B1-C1',
  gradingMode: 'auto',
})
/** VSTEP speaking times (docs/grading.md): Part 1 3 min, no preparation; Parts 2 and 3 one minute of preparation, then 3 and 4 minutes. */
const SPEAKING_TIMES: Partial<Record<TaskPart, { preparationSeconds: number; speakingSeconds: number }>> = {
  speaking_part_1: { preparationSeconds: 0, speakingSeconds: 180 },
  speaking_part_2: { preparationSeconds: 60, speakingSeconds: 180 },
  speaking_part_3: { preparationSeconds: 60, speakingSeconds: 240 },
}
const speaking = (slug: string, part: TaskPart, title: string, prompt: string, minutes: number): SeedTask => ({
  slug,
  skill: 'speaking',
  part,
  title,
  prompt,
  minWords: 0,
  timeLimitMinutes: minutes,
  ...SPEAKING_TIMES[part]!,
  level: 'B1-C1',
  gradingMode: 'hybrid',
})

/** Original VSTEP-style tasks written for this project (not taken from any exam paper). */
export const SEED_TASKS: readonly SeedTask[] = [
  writing1(
    'w1-community-garden',
    'Letter to a neighbour about a community garden',
    'Your neighbour, Mr. Lam, has written to ask whether you would help turn the empty lot at the end of your street into a community garden. Write a letter to him. In your letter, you should:\n- say whether you like the idea and why\n- suggest what could be grown and who could look after it\n- offer one way you can help.\nWrite at least 120 words. You do not need to include addresses.',
  ),
  writing1(
    'w1-library-complaint',
    'Email to a library about late opening hours',
    'The city library near your home has recently reduced its evening opening hours, and you can no longer study there after work. Write an email to the library manager. In your email, you should:\n- explain how you used the library before the change\n- describe the problems the new hours cause for you and others\n- suggest a practical solution.\nWrite at least 120 words.',
  ),
  writing1(
    'w1-friend-visit',
    'Reply to a friend who is visiting your city',
    'Your English-speaking friend, Anna, is coming to your city for three days next month and has asked for your advice. Write a reply to her. In your letter, you should:\n- recommend the best time of day to arrive and how to get to the centre\n- suggest two places she should visit and say why\n- tell her about one local dish she must try.\nWrite at least 120 words.',
  ),
  writing1(
    'w1-course-feedback',
    'Email to a language centre about a course',
    'You have just finished a ten-week evening English course at a language centre. The director has asked students for feedback. Write an email to the director. In your email, you should:\n- say what you found most useful in the course\n- describe one thing that could be improved\n- say whether you would recommend the course to a colleague.\nWrite at least 120 words.',
  ),
  writing2(
    'w2-remote-work',
    'Working from home',
    'More and more companies allow their employees to work from home for several days a week. Some people believe this benefits both workers and employers, while others think it harms teamwork and productivity.\nDiscuss both views and give your own opinion. Use reasons and relevant examples from your own knowledge or experience.\nWrite at least 250 words.',
  ),
  writing2(
    'w2-plastic-packaging',
    'Reducing plastic packaging',
    'Plastic packaging is used for almost every product sold in supermarkets, and much of it ends up in rivers and seas. Some people say governments should ban single-use plastic packaging completely; others argue that shoppers and companies should be left to choose.\nTo what extent do you agree or disagree that a complete ban is the best solution? Give reasons and examples to support your position.\nWrite at least 250 words.',
  ),
  writing2(
    'w2-university-fees',
    'Should university education be free?',
    'In some countries university education is free for every student, while in others students pay high tuition fees or take out loans.\nWhat are the advantages and disadvantages of free university education? Which system do you think is better for a developing country? Support your answer with reasons and examples.\nWrite at least 250 words.',
  ),
  writing2(
    'w2-screen-time-children',
    'Children and screen time',
    'Children today spend many hours each day in front of phones, tablets and televisions. Some parents set strict limits on screen time, while others believe technology is essential for learning.\nWhat problems can too much screen time cause for children, and what can families and schools do about them? Give reasons and examples.\nWrite at least 250 words.',
  ),
  speaking(
    's1-free-time-and-food',
    'speaking_part_1',
    'Social interaction: free time and food',
    'Let us talk about your free time.\n- What do you usually do at the weekend?\n- Do you prefer spending free time alone or with other people? Why?\n- Is there a hobby you would like to start in the future?\nNow let us talk about food.\n- What kind of food do you like to cook or eat?\n- Do people in your country eat out more often than they used to?\n- Is it important for children to learn to cook? Why or why not?',
    3,
  ),
  speaking(
    's1-neighbourhood-weather',
    'speaking_part_1',
    'Social interaction: your neighbourhood and the weather',
    'Let us talk about where you live.\n- Can you describe the neighbourhood where you live?\n- What do you like most about it?\n- What would you change about it if you could?\nNow let us talk about the weather.\n- What is the weather usually like in your hometown?\n- Does the weather affect your mood? How?\n- Which season do you enjoy most, and why?',
    3,
  ),
  speaking(
    's2-birthday-gift',
    'speaking_part_2',
    'Solution discussion: a gift for a retiring teacher',
    'Situation: Your favourite secondary-school teacher is retiring, and your former class wants to give her a present. Three ideas have been suggested:\n- a photo book with messages from every student\n- a weekend trip to a seaside resort\n- a party at the school with former students.\nWhich idea do you think is the best? Explain your choice and say why the other two ideas are less suitable. You have one minute to prepare.',
    4,
  ),
  speaking(
    's2-commute',
    'speaking_part_2',
    'Solution discussion: getting to a new job',
    'Situation: You have just started a new job 12 kilometres from your home, and you need to decide how to travel there every day. Three options are available:\n- ride a motorbike\n- take the city bus\n- rent a small flat near the office.\nWhich option is the best? Explain your choice and say why the other two options are less suitable. You have one minute to prepare.',
    4,
  ),
  speaking(
    's3-learning-languages',
    'speaking_part_3',
    'Topic development: learning a foreign language',
    'Topic: Learning a foreign language brings many benefits.\nYou may use the following ideas or your own:\n- better job opportunities\n- understanding other cultures\n- keeping the brain active.\nYou have one minute to prepare, then talk for about three minutes. Follow-up questions: Should children start learning a second language at primary school? Will translation apps make language learning unnecessary?',
    5,
  ),
  speaking(
    's3-city-green-spaces',
    'speaking_part_3',
    'Topic development: green spaces in cities',
    'Topic: Cities should have more parks and green spaces.\nYou may use the following ideas or your own:\n- health of residents\n- cooler temperatures and cleaner air\n- places for communities to meet.\nYou have one minute to prepare, then talk for about three minutes. Follow-up questions: Who should pay for new parks? Is it better to build parks or housing when land is scarce?',
    5,
  ),
]
