"""The care layer's word lists: what signals suicide risk or self-harm in a user's words, and
what makes a sentence of an answer harmful. Plain data, read by voicechat.care.

The lists were written from published warning-sign lists (988 Lifeline, Samaritans, WHO; see
README "Crisis safety") and measured on bench/care/ (bench/care_bench.py): a change here is
judged by that benchmark, both languages, recall and false positives together.

Text is matched after ``voicechat.care.normalise``: lower case, straight apostrophes, one
space between words, Chinese without spaces and in simplified characters.
"""

from __future__ import annotations

# --- English: the user's words ---------------------------------------------------------

_SELF = r"(?:my ?self|meself)"
_I = r"(?:i|i'm|im|i've|ive|i'd|id|i'll|ill|i am|i was|me)"
_WANT = (r"(?:want(?:ed|s|ing)?|wanna|going|gonna|plan(?:ned|ning)?|intend(?:ed|ing)?|ready|decided|"
         r"deciding|think(?:ing)?|thought(?:s)?|consider(?:ed|ing)?|tempted|urges?|need|wish|would like|"
         r"try(?:ing)?|tried|about|time)")
_DEATH_WISH = (r"(?:die|be dead|not (?:be )?(?:here|alive|around)|not exist|stop existing|disappear (?:forever|for good)|"
               r"end (?:it all|everything|my life|it|things for good)|kill " + _SELF + r"|take my (?:own )?life|"
               r"sleep forever|never wake up|not wake up|go to sleep (?:forever|and never))")

# Each rule: (category, pattern). One match is enough, unless the text also matches one of
# EXCUSES_EN for its category (an accident, an idiom, a film).
STRONG_EN: list[tuple[str, str]] = [
    ("intent", r"\b(?:kill(?:ing)?|off(?:ing)?|hang(?:ing)?|drown(?:ing)?|shoot(?:ing)?|poison(?:ing)?|"
               r"starv(?:e|ing)|suffocat(?:e|ing)) " + _SELF + r"\b"),
    ("intent", r"\b(?:end(?:ing)?|take|taking|took) (?:my|my own) life\b"),
    ("intent", r"\b(?:end(?:ing)?) it all\b"),
    ("intent", r"\bsuicid(?:e|al)\b"),
    ("intent", r"\b(?:un)?aliv(?:e|ing) " + _SELF + r"\b"),
    ("intent", r"\b" + _WANT + r" (?:to |of |about )?(?:" + _DEATH_WISH + r")\b"),
    ("intent", r"\bcommit (?:suicide|die)\b"),
    ("intent", r"\b(?:i|i'm|im|i am) (?:just )?(?:going|gonna|about) to (?:do it|end it|go through with it)\b"),
    ("intent", r"\bgo(?:ing)? through with it\b"),
    ("wish_dead", r"\b(?:wish|hope|pray) (?:that )?(?:i|i'd|id) (?:was|were|had|could|would|wouldn't|won't|don't|didn't|never|just|had never)"
                  r"\b[^.!?]{0,30}\b(?:dead|die|died|born|exist|wake up|woke up|disappear|gone|here)\b"),
    ("wish_dead", r"\b(?:don't|dont|do not|no longer|never) (?:want|wanna|wish|care) (?:to )?(?:live|be alive|exist|wake up|"
                  r"keep living|go on living|be here anymore|be here any ?more|be on this earth|be in this world|see tomorrow)\b"),
    ("wish_dead", r"\b(?:rather|better off) (?:be )?dead\b"),
    ("wish_dead", r"\b(?:angry|mad|upset|disappointed|annoyed|furious|pissed|sad|sorry|hate it|hate) (?:that |when |to )?(?:i |id )?"
                  r"(?:woke up|wake up|keep waking up|still wake up|survived|am still (?:here|alive)|'m still (?:here|alive)|"
                  r"im still (?:here|alive)|didn't die|did not die)\b"),
    ("wish_dead", r"\b(?:i'd|id|i would) rather die\b(?! than)"),
    ("wish_dead", r"\bwant(?:ed)? (?:it )?(?:all )?to (?:stop|end) (?:for good|forever|permanently)\b"),
    ("wish_dead", r"\b(?:no|not any|lost (?:all|every|my)) (?:reason|point|will) (?:to|in|for) (?:live|living|go on|going on|"
                  r"keep going|be alive|being alive|wake up|waking up|exist|existing|carry on)\b"),
    ("wish_dead", r"\b(?:life|living|my life|being alive|it) (?:is|isn't|isnt|is not|feels|isn't even|stopped being|is no longer) "
                  r"(?:not |no longer )?worth (?:living|it anymore|living anymore)\b"),
    ("wish_dead", r"\b(?:tired|sick|done|exhausted) (?:of|with) (?:living|life|being alive|existing|waking up|being here)\b"),
    ("wish_dead", r"\b(?:never|not|n't) wake up (?:again|tomorrow|in the morning)\b"),
    ("wish_dead", r"\b(?:fall asleep|go to sleep|sleep) and (?:never|not) (?:wake|wake up)\b"),
    ("wish_dead", r"\bdisappear (?:forever|for good|permanently|from (?:this|the) (?:world|earth))\b"),
    ("wish_dead", r"\bnot (?:be|being) (?:here|around|alive) (?:anymore|any more|much longer|for long|tomorrow|next (?:week|year))\b"),
    ("wish_dead", r"\bwon't be (?:here|around|alive) (?:anymore|any more|much longer|for long|tomorrow|next (?:week|month|year)|"
                  r"to see)\b"),
    ("wish_dead", r"\b(?:can't|cannot|cant) (?:go on|keep going|do (?:this|it|life) anymore|keep living|live like this)"
                  r"\b[^.!?]{0,30}\b(?:die|dead|end|anymore|any more|living)\b"),
    ("burden", r"\bbetter off without me\b"),
    ("burden", r"\b(?:be|been|being|is|are|was|would be|will be|feel) (?:so much |a lot |all )?(?:better|easier|happier|lighter|relieved)"
               r"\b[^.!?]{0,25}\b(?:without me|if i (?:was|were|wasn't|weren't|died|disappeared|was gone|were gone|didn't exist)|"
               r"once i'm gone|when i'm gone|after i'm gone|if i'm gone)\b"),
    ("burden", r"\bif i (?:died|was dead|were dead|was gone|were gone|disappeared|killed myself|didn't exist|wasn't here|"
               r"weren't here|wasn't around)\b[^.!?]{0,40}\b(?:better|easier|relieved|relief|happier|lighter|notice|miss|care|"
               r"free|freer)\b"),
    ("burden", r"\b(?:i'm|im|i am|i feel like|i feel|feel like|i've become|ive become|just) (?:such |just |only |nothing but |a )*"
               r"(?:a )?burden\b"),
    ("burden", r"\b(?:no ?one|nobody|noone|no-one) would (?:even )?(?:miss|notice|care|mind) (?:me|if i)\b"),
    ("burden", r"\b(?:won't|will not|wont) (?:be a (?:problem|burden|bother)|have to (?:deal|worry|put up) with me) "
               r"(?:for |much )?(?:much )?(?:longer|anymore|any more|soon|for long)\b"),
    ("plan", r"\b(?:jump(?:ing|ed)?|throw(?:ing)? " + _SELF + r"|step(?:ping)?|walk(?:ing)?) (?:off|from|in front of|into traffic|"
             r"out of (?:a |the |my )?window|under)\b[^.!?]{0,30}\b(?:bridge|roof|rooftop|building|balcony|window|cliff|ledge|tower|"
             r"overpass|floor|train|bus|truck|car|traffic|parking (?:garage|structure)|car park)\b"),
    ("plan", r"\b(?:sav(?:e|ed|ing)|stockpil(?:e|ed|ing)|hoard(?:ed|ing)?|collect(?:ed|ing)?|stash(?:ed|ing)?|keep(?:ing)?|kept|"
             r"bought|buying|got|have|counted|counting) (?:up )?(?:all |enough |a lot of |lots of |my |of my |some |the |these |those |"
             r"extra |a (?:bottle|box|stash) of |\d+ )*(?:sleeping |pain ?|old |prescription )?(?:pills|tablets|meds|medication|"
             r"painkillers|sleeping pills|paracetamol|tylenol|insulin|antidepressants)\b[^.!?]{0,60}"
             r"\b(?:enough|all at once|at once|together|in case|for when|for the day|tonight|ready|just in case|the end|when|until|"
             r"months|weeks|for a while|one day|plan|one night|take them all|finally)\b"),
    ("plan", r"\b(?:stockpil(?:e|ed|ing)|hoard(?:ed|ing)) (?:my |the |all |these )*(?:pills|tablets|meds|medication|painkillers)\b"),
    ("plan", r"\b(?:take|taking|swallow(?:ing)?|down(?:ing)?|took) (?:all|every(?:thing)?|the whole|a whole|the rest|a bottle|the bottle|"
             r"a handful|handfuls|a box|the box|a pack|the lot|as many) (?:of )?(?:my |the |these |those |them )?"
             r"(?:pills|tablets|meds|medication|painkillers|sleeping pills|bottle|box|pack|them|at once)?\b"),
    ("plan", r"\b(?:over ?dos(?:e|ed|ing)|o\.?d\.?(?:'d|ed|ing)?) (?:on|tonight|this|again|soon|with)\b"),
    ("plan", r"\b(?:i|i'm|im|i am|i've|ive|i will|i'll|going to|gonna|want to|thinking about|planning to|plan to) "
             r"(?:\w+ ){0,3}(?:overdos(?:e|ing)|od(?:ing)?)\b"),
    ("plan", r"\b(?:noose|tie (?:a|the) (?:rope|noose)|rope (?:to|around|for) (?:my|the) (?:neck|beam|ceiling|end))\b"),
    ("plan", r"\b(?:bought|got|have|found|buying|getting) (?:a |the |some )?(?:rope|gun|pistol|rifle|charcoal|razor blades?|blades?)"
             r"\b[^.!?]{0,50}\b(?:end|myself|for me|use it|tonight|tomorrow|ready|finally|for that|when the time|for good|it)\b"),
    ("plan", r"\b(?:wrist|wrists|vein|veins|throat)\b[^.!?]{0,20}\b(?:cut|slit|slash|open)\b|\b(?:slit|slash|cut|open) (?:my|both) "
             r"(?:wrists?|veins?|throat)\b"),
    ("plan", r"\b(?:picked|chose|chosen|set|decided on|worked out|figured out|know|found) (?:a |the |out )?(?:date|day|time|place|spot|"
             r"way|how|when|where|method)\b[^.!?]{0,40}\b(?:do it|end it|die|go through|kill|jump|leave for good|won't wake|"
             r"be gone|the end)\b"),
    ("farewell", r"\bsuicide (?:note|letter|letters|notes|message|messages|video)\b"),
    ("farewell", r"\b(?:wr(?:ote|itten|iting|ite)|left|leaving|leave) (?:a |my |some )?(?:letters?|notes?) (?:for|to) (?:my |each of |"
                 r"everyone|all|the)\b[^.!?]{0,40}\b(?:goodbye|sorry|when i'm gone|after i'm gone|to find|explain|forgive|"
                 r"to read after|last)\b"),
    ("farewell", r"\b(?:giv(?:e|ing|en)|gave) (?:away )?(?:all |most )?(?:of )?my (?:things|stuff|belongings|possessions|clothes|"
                 r"books|guitar|games|cat|dog|pets?|plants|savings|money|jewel(?:le)?ry|collection)\b(?: away)?"
                 r"(?:[^.!?]{0,40}\b(?:won't need|don't need|not going to need|no longer need|need them|anymore|before i go|"
                 r"when i'm gone|while i still can|to people|to friends|away))?"),
    ("farewell", r"\b(?:giv(?:e|ing|en)|gave)\b[^.!?]{0,15}\baway (?:all |most )?(?:of )?my\b"),
    ("farewell", r"\b(?:saying|say|said|to say) (?:my )?(?:final |last )?goodbyes? (?:to (?:everyone|everybody|you all|my family|"
                 r"the people i love|all of you)|for good|forever|one last time)\b|\b(?:final|last) goodbye\b|\bgoodbye forever\b"),
    ("farewell", r"\bthis (?:is|will be) (?:the )?(?:last|final) (?:time|message|thing|night)\b[^.!?]{0,40}\b(?:hear from me|"
                 r"talk|write|say|speak|you'll|see|message)\b"),
    ("farewell", r"\b(?:the )?last time you(?:'ll| will) (?:hear from|see|talk to) me\b"),
    ("farewell", r"\b(?:put|putting|getting|got|sorting|sorted) (?:my )?(?:affairs|things|life|papers) in order\b"),
    ("farewell", r"\b(?:take care of|look after|feed) my (?:cat|dog|kids|children|pets?|plants) (?:for me )?(?:when|after|once) "
                 r"i(?:'m| am)? (?:gone|not here|not around)\b"),
    ("self_harm", r"\bself[- ]?(?:harm(?:ing|ed)?|injur(?:y|ies|e|ing)|mutilat(?:e|ion|ing))\b"),
    ("self_harm", r"\b(?:cut(?:ting)?|burn(?:ing|ed|t)?|hurt(?:ing)?|harm(?:ing|ed)?|hit(?:ting)?|punch(?:ing|ed)?|scratch(?:ing|ed)?|"
                  r"bang(?:ing|ed)? (?:my head|myself)|carv(?:e|ed|ing)|stab(?:bed|bing)?|bruis(?:e|ed|ing)|starv(?:e|ed|ing)) "
                  + _SELF + r"\b"),
    ("self_harm", r"\b(?:cut|cutting|cuts|burns|scars|razor|blade|blades)\b[^.!?]{0,40}\b(?:my (?:arms?|wrists?|legs?|thighs?|skin|"
                  r"stomach)|on purpose|again|to feel|relapse|relapsed|clean for|to cope|so i (?:can )?feel)\b"),
    ("self_harm", r"\b(?:relaps(?:e|ed|ing)) (?:on|into|with)? ?(?:cutting|self|burning|hurting)\b"),
    ("self_harm", r"\b(?:urge|urges|need|itch) to (?:cut|hurt|harm|burn|punish)\b(?! (?:the|a|an|this|that|these|those|some|it|them|his|"
                  r"her|their|our|your|back|down|off|out|up|costs?|ties|class|school|sugar|carbs|corners|loose|in|through|across)\b)"),
    ("self_harm", r"\b(?:hurt|harm|punish|cut|burn)(?:ing)? (?:my )?(?:body|skin|arms?)\b[^.!?]{0,30}\b(?:again|on purpose|"
                  r"deserve|feel (?:something|better|real)|so i)\b"),
    ("method_question", r"\b(?:lethal|fatal|deadly|toxic|overdose|killing|max(?:imum)?) (?:dose|amount|dosage|quantity|level)\b"),
    ("method_question", r"\bhow (?:many|much)\b[^.!?]{0,50}\b(?:to (?:die|kill|overdose|not wake|never wake|be fatal|be lethal|stop "
                        r"(?:my|your|the) heart|end it)|would (?:kill|be (?:fatal|lethal|enough))|is (?:fatal|lethal|deadly)|"
                        r"before (?:you|i|it) (?:die|dies|kills))\b"),
    ("method_question", r"\b(?:painless|quickest|quick|easiest|easy|fastest|best|surest|most certain|simplest|peaceful|quiet) "
                        r"(?:way|ways|method|methods|death|means) (?:to |of )?(?:die|dying|kill (?:" + _SELF + r"|me|oneself|yourself|"
                        r"someone|a person)|kill(?= *(?:[.?!]|$))|end (?:it|it all|my life|things|" + _SELF + r"|everything)|"
                        r"go|suicide|death|commit)\b"),
    ("method_question", r"\bhow (?:to|do i|do you|can i|could i|would i|does one|would one|should i) (?:kill " + _SELF + r"|die|"
                        r"end (?:my|your|one's|a) life|commit suicide|overdose|hang|slit|not wake up|kill (?:yourself|oneself))\b"),
    ("method_question", r"\bhow (?:high|tall|far)\b[^.!?]{0,40}\b(?:to die|to kill|be fatal|be lethal|survive|death|die from|"
                        r"to be sure)\b|\bwhat (?:height|floor)\b[^.!?]{0,40}\b(?:die|fatal|lethal|kill|survive)\b"),
    ("method_question", r"\bhow long (?:does it|would it|will it) take to (?:die|bleed out|drown|suffocate|pass out and die)\b"),
    ("method_question", r"\b(?:which|what) (?:pills|drugs|medications?|meds|poison|chemicals?)\b[^.!?]{0,40}\b(?:kill|die|fatal|lethal|"
                        r"deadly|not wake)\b"),
]

# What turns a match of that category into ordinary talk: an accident, an idiom, a story about
# someone else. Checked against the same message (not the window).
EXCUSES_EN: dict[str, list[str]] = {
    "intent": [
        r"\bsuicide (?:squad|bomb(?:er|ing)?|doors|mission|run|sprints?|drills?|lane|blonde)\b",
        r"\b(?:movie|film|novel|book|series|show|episode|character|story|song|lyrics|game|documentary|news|article|essay|report|"
        r"podcast|play|poem|anime|manga|drama|history|class|lecture|research|paper|statistics|awareness|prevention|training|"
        r"thesis|course|seminar|campaign|fundrais\w*|volunteer\w*|charity|walk for)\b",
        r"\b(?:died by|lost (?:\w+ ){0,4}to|committed|death by|after (?:his|her|their)) suicide\b",
        r"\b(?:he|she|they|his|her|their) (?:was|were|is|are|had been|has been|felt|seemed) suicidal\b",
        r"\bkill(?:ing)? myself (?:laughing|with laughter)\b|\b(?:laughing|laugh) (?:so hard )?(?:i could )?kill myself\b",
        r"\b(?:want|wanna|going|gonna) (?:to )?die (?:of|from) (?:embarrassment|shame|laughter|laughing|cringe|cuteness|boredom)\b",
        r"\b(?:dying|die) to (?:see|try|know|meet|hear|go|get|eat|watch|read|tell)\b",
        r"\bi could (?:just )?die\b",
    ],
    "wish_dead": [
        r"\b(?:movie|film|novel|book|series|show|episode|character|story|song|lyrics|game)\b[^.!?]{0,60}\b(?:says|sings|said|line|"
        r"quote|wishes|wished)\b",
        r"\b(?:tired|sick) of (?:living|life) (?:in|with|at|on|like|under|from|out of|paycheck)\b",
        r"\bwon't be (?:here|around) (?:tomorrow|next week|next month|next year)\b[^.!?]{0,40}\b(?:trip|holiday|vacation|travel|"
        r"flight|work|office|visit|conference|away|back|moving|move)\b",
        r"\bnot (?:be|being) (?:here|around) (?:tomorrow|next week|next year)\b[^.!?]{0,40}\b(?:trip|holiday|vacation|travel|"
        r"flight|work|office|visit|conference|away|back|moving|move)\b",
    ],
    "burden": [],
    "plan": [
        r"\b(?:bungee|diving board|dive|diving|swim|swimming|pool|lake|river for a swim|parachut\w*|skydiv\w*|trampoline|base jump\w*|"
        r"cliff jump\w*|zip ?line|stunt|video game|in the game|movie|film|scene|dream|dreamt|dreamed|kids|dog|cat)\b",
        r"\b(?:doctor|pharmacist|prescri\w*|as prescribed|refill|pharmacy|organi[sz]er|vitamins|antibiotics|course of)\b"
        r"(?![^.!?]{0,40}\b(?:enough to|all at once|to die|end it|not wake)\b)",
        r"\bclimbing|camping|boat|sailing|tow(?:ing)?|tug of war|jump rope|skipping rope|hunting|shooting range|range\b",
    ],
    "farewell": [
        r"\b(?:moving|move|moved|relocat\w*|leaving (?:the )?(?:company|job|city|country|school|team)|retir\w*|graduat\w*|"
        r"new job|abroad|overseas|declutter\w*|marie kondo|spring clean\w*|garage sale|yard sale|charity shop|thrift|donat\w*|"
        r"minimalis\w*|outgrown|too small|last day (?:at|of)|farewell (?:party|drinks|lunch|card|speech)|team|colleagues|"
        r"co-?workers|office|classmates|company|(?:gonna|going to|will|i'll) miss)\b",
        r"\b(?:cover letter|love letter|thank[- ]you (?:note|letter)|newsletter)\b",
    ],
    "self_harm": [
        r"\b(?:accident\w*|by accident|slipped|slip|fell|fall(?:ing)?|tripped|trip(?:ped)?|gym|work ?out|lifting|weights|playing|"
        r"football|soccer|basketball|tennis|running|skiing|skating|climbing|hiking|shaving|shave|cooking|cook|chopping|kitchen|"
        r"stove|oven|iron(?:ing)?|curling|hair straightener|pan|kettle|cleaning|garden\w*|furniture|paper cut|sunburn\w*|"
        r"sunbathing|bike|cycling|yoga|stretch\w*|sprain\w*|injur\w* at)\b",
        r"\bself[- ]?(?:harm|injury)\b[^.!?]{0,60}\b(?:article|essay|research|study|awareness|training|course|class|documentary|"
        r"book|prevention|teens|students|patients|clients|nurse|training)\b",
        r"\bcut myself (?:off|out|some slack|a (?:slice|piece|break|deal))\b|\bhurt myself (?:laughing)\b|\bbeat myself up\b",
    ],
    "method_question": [
        r"\b(?:for (?:my|the|our|a) (?:dog|cat|pet|kid|child|baby|son|daughter|patient|class|exam|homework|essay|novel|story|book|"
        r"character|garden|plants)|toxic to (?:dogs|cats|pets)|caffeine|vitamin|ibuprofen for|tylenol for|headache|chocolate|"
        r"mushrooms?|plants?|spider|snake|radiation|sun|alcohol poisoning|for a pharmacology|pharmacology|toxicology)\b",
        r"\b(?:best|quickest|easiest|fastest) way to (?:go|get) (?:to|home|there|downtown)\b",
    ],
}

# Weak signs: none alone is a crisis; voicechat.care combines them (WEAK_RULE there), in this
# message or this message with the user's last ones (a plan said over two messages).
# hopeless: despair; final: last things, finality; gone: the speaker's own absence or death
# ("when I'm gone", "I won't be coming back down"); bye: a plain goodbye; means: a lethal means
# or a high place; ready: means got ready, saved, enough; time: a day or hour; alone: no one
# around, no one to stop it; affairs: putting one's affairs in order, giving things away.
WEAK_EN: dict[str, list[str]] = {
    "hopeless": [
        r"\bhopeless\b", r"\bno (?:hope|way out|future|point anymore|point in anything|escape)\b",
        r"\b(?:can't|cannot|cant) (?:go on|take (?:it|this|any of this) (?:anymore|any more)|do this anymore|keep going|cope anymore|"
        r"carry on)\b", r"\bgive up on (?:life|everything|myself|living)\b", r"\bnothing (?:matters|will (?:ever )?get better|"
        r"ever gets better|left for me|to live for)\b", r"\b(?:completely|utterly|totally) (?:alone|empty|trapped|worthless)\b",
        r"\bworthless\b", r"\b(?:trapped|unbearable|no one cares|nobody cares)\b", r"\bi'm (?:almost |so |just )?done\b",
        r"\bdone with (?:everything|it all)\b",
        r"\b(?:doesn't|does not|won't) matter (?:anyway|anymore)\b", r"\bwhat'?s the point\b",
        r"\bnothing (?:left )?(?:for me|to stay for|holding me)\b",
    ],
    "final": [
        r"\bforever\b", r"\bfor good\b", r"\b(?:one|for the|the very) last (?:time|thing|message|night|look|goodbye)\b",
        r"\bthis is (?:the|my) last\b", r"\bfinal (?:goodbye|message|night)\b", r"\bmade (?:my )?peace with (?:everything|it all|the world|it)\b",
        r"\bwon't (?:see|hear from) me\b", r"\bforgive me\b", r"\bi'm sorry for everything\b", r"\bthank you for everything\b",
        r"\bthanks for everything\b", r"\b(?:it|this|everything)(?:'ll| will)? (?:all )?be over\b", r"\bit'?s (?:almost |nearly )?over\b",
        r"\b(?:'s|is) the (?:day|night)\b",
    ],
    "gone": [
        r"\b(?:when|after|once|if) i'?m (?:gone|dead|not here|not around)\b", r"\bremember me by\b",
        r"\bnot (?:planning|going|gonna) (?:on )?(?:to )?(?:be )?com(?:e|ing) back\b", r"\bwon't (?:be )?com(?:e|ing) back\b",
        r"\b(?:won't|will not|not) (?:be )?(?:taking|take|walking|climbing|coming) (?:the stairs )?(?:back )?down\b",
        r"\bhold my weight\b", r"\b(?:now|finally) i can (?:go|rest|leave)\b", r"\bi can go now\b",
        r"\bafter (?:tonight|tomorrow|today|this weekend)\b", r"\bblame (?:themselves|herself|himself|yourself)\b",
        r"\b(?:not|wasn't|isn't|n't) (?:their|her|his|your|anyone's|any of their) fault\b", r"\bto explain why\b", r"\bmake sure it works\b", r"\b(?:won't|wouldn't|can't) survive\b",
        r"\bno chance of surviving\b", r"\bwon't have to (?:worry|deal|put up)\b", r"\bdon't worry about me\b",
        r"\bwon't be (?:around|here)\b", r"\bnot be (?:around|here)\b", r"\bthey'll find (?:them|it|me)\b",
        r"\b(?:soon )?none of (?:this|it) (?:will |would )?matter\b", r"\bready to go\b(?! (?:to|out|home|back|for|on))",
    ],
    "bye": [r"\bgoodbye\b", r"\bfarewell\b", r"\bbye\b"],
    "means": [
        r"\b(?:pills|tablets|meds|medication|painkillers|sleeping pills|paracetamol|tylenol|insulin|bottle of)\b",
        r"\b(?:rope|noose|gun|pistol|rifle|razor|blades?|knife|charcoal|bleach|poison|pesticide|lighter)\b",
        r"\b(?:bridge|footbridge|roof|rooftop|ledge|cliff|balcony|train tracks|tracks|tall building|top floor|overpass|"
        r"parking garage|car park|high enough|really high|so high|tallest|highest)\b",
        r"\b(?:jump|jumping|the edge|hang|drown|look down|looking down)\b",
    ],
    "ready": [
        r"\b(?:saved|saving|stockpil\w*|hoard\w*|collected|stashed|bought|got|have|found|picked|chosen|set) (?:up )?"
        r"(?:the |a |my |all |enough |some )?(?:pills|tablets|meds|rope|gun|knife|blades?|charcoal|date|day|spot|place)\b",
        r"\b(?:ready|enough|all set|in place)\b", r"\blooked up\b", r"\bpicked the\b",
    ],
    "time": [
        r"\btonight\b", r"\btomorrow\b", r"\bthis (?:weekend|week|friday|saturday|sunday|evening|morning|afternoon)\b",
        r"\b(?:on|by|this|next) (?:my birthday|monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month|the \d+\w*)\b",
        r"\b(?:friday|saturday|sunday|monday|tuesday|wednesday|thursday)(?:'s| is)\b", r"\bafter (?:my|the) shift\b",
        r"\b(?:decided|made up my mind|have a plan|got a plan|it's time|everything(?:'s| is) ready)\b",
    ],
    "alone": [
        r"\b(?:everyone|everybody|my family|my parents|they|people) (?:to be |is |are |will be )?(?:out|away|asleep|gone)\b",
        r"\b(?:no ?one|nobody) (?:will be |is |'s )?(?:home|around|there|to stop me|will find|will notice|will see)\b",
        r"\b(?:house|place|flat|apartment) (?:to myself|empty)\b", r"\bby myself\b", r"\bno one (?:can|will) stop me\b",
        r"\bclose at night\b",
    ],
    "affairs": [
        r"\b(?:updated|made|wrote|finished) (?:my|a) will\b", r"\bcancel(?:led|ed)? (?:all )?my (?:subscriptions|accounts|plans)\b",
        r"\b(?:left|gave|wrote down) (?:all )?my passwords\b", r"\beverything(?:'s| is) (?:in order|sorted|taken care of)\b",
        r"\b(?:affairs|things|papers) in order\b", r"\b(?:gave|giving|give) (?:away )?(?:most of |all of |all )?my (?:stuff|things|belongings|"
        r"possessions|clothes|books|guitar|games|cat|dog|pets?|plants|savings|collection)\b", r"\bclearing out my (?:room|things|stuff)\b",
        r"\b(?:wrote|written|writing|left) (?:a |some )?(?:letters?|notes?) (?:to|for) (?:my |each of my |all my )?(?:mom|mum|dad|parents|"
        r"family|sister|brother|kids|children|wife|husband|partner|friends|everyone)\b", r"\b(?:goodbye|farewell) (?:letter|note)s?\b",
        r"\btexted (?:all )?my (?:friends|family)\b[^.!?]{0,30}\blove them\b",
    ],
}

# --- Chinese: the user's words -----------------------------------------------------------

# "X死了" is an intensifier for these X (累死了 = very tired): never a crisis by itself.
ZH_INTENSIFIED = ("累困饿热冷笑气吓烦忙难痛疼急闷丑美帅酸辣咸甜撑渴晒挤吵懒醉馋臭香乐慌土忙蠢坑"
                  "羡慕嫉妒开心高兴担心紧张尴尬后悔无聊可爱心疼憋屈委屈麻烦恶心郁闷感动")

STRONG_ZH: list[tuple[str, str]] = [
    ("intent", r"自杀|轻生|寻死|自尽|寻短见|想不开(?:了|要|想)|自我了断|了断自己|做个了断|一了百了|一死了之"),
    ("intent", r"(?:了结|结束|终结|结果)(?:掉)?(?:自己|我自己|我的|自己的)?(?:的)?(?:生命|性命|人生|这条命|这一生|一生|此生|"
               r"一切|这一切|自己)"),
    ("intent", r"杀(?:了|死|掉)?(?:我)?自己|弄死(?:我)?自己|害死自己"),
    ("intent", r"(?:我|真|好|很|有点|有些|太|就是|是真的|真的|甚至|突然|一直|经常|总是|老是|特别|非常|都|又|还是|也)"
               r"想(?:去)?死(?!你|您|他|她|它|你们|他们|我了|我啦|人|了都)"),
    ("intent", r"^想(?:去)?死(?!你|您|他|她|它|你们|他们|我了|我啦|人)"),
    ("intent", r"(?:我|自己)(?:想|要|打算|准备|决定|计划)(?:要)?(?:去)?死"),
    ("intent", r"(?:我|让我)(?:就|便|马上|立刻|这就|也|干脆|索性|还是|真的|直接|今晚|今天|明天|到时候)*去死(?!吧你|你)"),
    ("intent", r"不想(?:再)?活|活不下去|没法活|不想(?:再)?(?:继续)?活着|活着(?:真|好|太)?(?:没|没有)(?:意思|意义|必要|盼头|希望|价值)"
               r"|没有活下去的(?:理由|意义|勇气|动力|必要)|活够了|不想(?:再)?存在|不如死了|(?:还|倒)不如死|死了(?:算了|拉倒|就好了|"
               r"一了百了|才好|比较好|更好|反而好)"),
    ("intent", r"(?:活着|人生|生活)(?:真|太|好)?没(?:有)?(?:意思|意义)(?:了)?[，,。.!！]*(?:不如|想|还是)"),
    ("wish_dead", r"(?:不要|不想|不用|别|永远不|再也不|再也不要|不再|不会再|不必再)(?:再)?(?:醒来|醒过来|醒了|睁开眼)|一睡不醒|"
                  r"(?:永远|一直)(?:睡下去|睡着|不醒|沉睡)|醒不过来(?:就好|才好|多好|算了)|长眠不醒"),
    ("wish_dead", r"希望(?:自己|我)?(?:能|可以)?(?:死掉|死了|去死|不存在|没(?:有)?(?:出生|被生下来|来到这个世界)|消失|"
                  r"明天不会醒|不要醒|别醒)"),
    ("wish_dead", r"(?:从这个世界(?:上)?|在这个世界(?:上)?|永远|彻底)(?:消失|离开|不见)|离开这个世界|离开人世|离开人间|"
                  r"(?:想|要|希望|打算)(?:永远)?消失(?:掉|算了|就好了|不见)"),
    ("wish_dead", r"(?:如果|要是|假如)(?:我)?(?:能)?(?:睡着|睡一觉|睡过去)(?:了)?(?:就)?(?:再也)?不(?:要|用|会)?(?:醒|起来)"),
    ("wish_dead", r"不想(?:再)?(?:面对|过)(?:明天|以后的日子|这样的人生)[^。！？]{0,10}(?:死|结束|消失)"),
    ("burden", r"(?:我|自己)(?:只|就|真|根本)?(?:是|成了|变成了|就是|只是|真是|完全是)(?:大家|家人|家里|所有人|他们|别人|父母|爸妈|"
               r"孩子|你们|这个家)?(?:的)?(?:负担|累赘|包袱|拖油瓶|多余的人|废物)"),
    ("burden", r"拖累(?:了)?(?:大家|家人|家里|他们|所有人|父母|爸妈|你们|别人)"),
    ("burden", r"没有我(?:的话)?[，,]?(?:他们|大家|家人|世界|你们|所有人|爸妈|父母|他|她)?(?:会|都|就|反而|也)*(?:更好|更轻松|轻松|"
               r"好过|开心|解脱|过得更好)"),
    ("burden", r"(?:如果|要是|假如)?(?:我)(?:死了|不在了|消失了|走了|离开了|没了)[^。！？]{0,20}(?:轻松|解脱|更好|开心|不会难过|"
               r"没人(?:会)?(?:在意|在乎|发现|注意|难过|想我)|没有人(?:会)?(?:在意|在乎|发现|难过))"),
    ("burden", r"(?:没人|没有人)(?:会)?(?:在意|在乎|发现|注意到|想念|记得)(?:我)?(?:死|不在|消失|离开)"),
    ("plan", r"跳楼|跳河|跳江|跳海|跳湖|跳崖|跳桥|跳轨|卧轨|上吊|烧炭|吞药|割脉|服毒|喝农药|喝药(?:自杀|死)|吞(?:了)?安眠药|"
             r"撞车(?:自杀|死)|开煤气"),
    ("plan", r"(?:从|站在|爬上|上了|到了|去了)(?:楼顶|天台|楼上|桥上|顶楼|阳台|窗台|窗户|屋顶|大桥|高楼|楼)[^。！？]{0,12}"
             r"(?:跳|下去|一跃|往下)"),
    ("plan", r"(?:想|要|打算|准备|差点|试过|想要|决定)(?:从[^。！？]{0,8})?跳下去"),
    ("plan", r"(?:攒|存|囤|藏|收集)(?:了|好|着)?(?:很多|一些|好多|不少|一堆|一大堆|足够|够)?(?:的)?(?:安眠药|药|药片|"
             r"止痛药|农药|木炭|绳子|刀片)"),
    ("plan", r"(?:一|整)(?:瓶|盒|堆|把|板)(?:的)?(?:安眠药|药|药片|止痛药)(?:都|全)?(?:吃|吞|喝)|(?:安眠药|药片|药)(?:全部|都|全|一次性)"
             r"(?:吃|吞)(?:掉|下去|了)"),
    ("plan", r"(?:今晚|今天晚上|明天|后天|这周末|周末|下周|生日那天|过完年|月底)[^。！？]{0,15}(?:结束(?:自己|一切|生命)|离开(?:这个世界|大家)|"
             r"去死|了结|了断|跳下去|不在了|走了之后)"),
    ("plan", r"(?:已经|都)(?:想好|决定好|选好|计划好|准备好|安排好)(?:了)?[^。！？]{0,15}(?:怎么死|死法|方法|地方|时间|日子|哪天|在哪里)"
             r"|(?:日子|时间|地方|方法)(?:都)?(?:已经)?(?:选好|定好|想好)了"),
    ("plan", r"(?:用刀|拿刀|刀片|小刀|美工刀)[^。！？]{0,10}(?:割|划)(?:自己|手腕|手臂|胳膊|腿|脉)|割(?:了)?(?:自己的)?手腕"),
    ("farewell", r"遗书|遗言|绝笔|诀别|永别|来生再见|下辈子再见|下辈子见|(?:再见了|别了)(?:大家|世界|所有人|各位)|"
                 r"交代(?:好)?后事|安排(?:好)?(?:我的)?后事|后事(?:都)?(?:安排|交代|准备)"),
    ("farewell", r"(?:把|将)(?:我的)?(?:东西|衣服|书|吉他|猫|狗|宠物|积蓄|存款|钱|首饰|收藏|游戏机|电脑)(?:都|全部|全)?(?:送|留|分)(?:给|掉|人)"
                 r"[^。！？]{0,20}(?:用不上|不需要|以后|走了|不在|最后|反正)"),
    ("farewell", r"(?:以后|再也)(?:不会|没机会|不能)(?:再)?(?:和你|跟你|跟大家|和大家)?(?:说话|聊天|见面|联系)(?:了)?[^。！？]{0,6}"
                 r"(?:再见|保重|谢谢|对不起)|这是(?:我)?最后(?:一次|一条)(?:和你|跟你|给你)?(?:说话|聊天|消息|留言|联系)"),
    ("farewell", r"(?:帮我|替我)(?:照顾|养)(?:好)?(?:我的)?(?:猫|狗|孩子|爸妈|父母|家人)[^。！？]{0,10}(?:以后|我不在|我走|之后)"),
    ("self_harm", r"自残|自伤|伤害(?:我)?自己|割(?:我)?自己|划(?:我)?自己|烫(?:我)?自己|掐(?:我)?自己|咬(?:我)?自己|"
                  r"(?:拿|用)(?:头)?撞墙(?:伤|到流血|到出血)?|惩罚(?:我)?自己[^。！？]{0,8}(?:疼|痛|伤|血|割|划)|"
                  r"打(?:我)?自己(?!的脸|脸)"),
    ("self_harm", r"(?:割|划)(?:破|伤|了)?(?:手腕|手臂|胳膊|大腿|腿|皮肤)|(?:手腕|手臂|胳膊|大腿)(?:上)?(?:的)?(?:刀口|伤口|疤|划痕|割痕)"
                  r"[^。！？]{0,10}(?:又|自己|新的|割|划)|(?:又|忍不住|控制不住|想)(?:割|划)(?:了)?(?:自己|手|一下|几刀)"),
    ("self_harm", r"(?:看到|见到)(?:血|流血)(?:才|就)?(?:会)?(?:觉得|感觉)(?:好|舒服|踏实|活着|真实)|疼(?:痛)?(?:才|就)?(?:能|会)?让我"
                  r"(?:觉得|感觉)(?:好受|舒服|活着|真实)"),
    ("method_question", r"致死量|致死剂量|致命剂量|(?:怎么|怎样|如何|什么方法|哪种方法|什么办法|哪种方式)(?:才能|可以|能)?"
                        r"(?:自杀|死|结束(?:自己的)?生命|不痛苦地死|无痛地死)|无痛(?:苦)?(?:的)?(?:死|自杀|死法)|死法|"
                        r"(?:吃|吞)(?:多少|几)(?:片|颗|粒|瓶|盒)?(?:安眠药|药|药片)?[^。！？]{0,8}(?:会死|能死|致死|死人|死掉|醒不过来|"
                        r"就不会醒|没命)|(?:几楼|多高|几层)[^。！？]{0,8}(?:会死|能死|必死|死得了|摔死|跳下去)"),
]

EXCUSES_ZH: dict[str, list[str]] = {
    "intent": [r"(?:电影|电视剧|剧里|小说|书里|书中|故事|角色|主角|新闻|报道|纪录片|歌词|游戏|动漫|漫画|历史|课上|论文|讲座|"
               r"预防|干预|宣传)[^。！？]{0,30}(?:自杀|轻生|寻死|自尽)",
               r"(?:关于|讲|讲述|有关|描写)(?:自杀|轻生|自尽)的(?:电影|电视剧|剧|小说|书|故事|新闻|报道|纪录片|歌|文章|节目|讲座|课)"],
    "wish_dead": [r"(?:闹钟|周末|假期|放假|休息日|明天不上班|不用上班|不上课|睡懒觉)[^。！？]{0,12}(?:不要|不想|别)(?:再)?醒|"
                  r"(?:不要|不想|别)(?:再)?醒(?:来)?[^。！？]{0,10}(?:上班|上课|周一|早起|闹钟|假期|太舒服)"],
    "burden": [],
    "plan": [r"(?:跳水|跳台|蹦极|游泳|泳池|跳伞|潜水|电影|游戏|梦里|梦见|新闻|小说|剧里)"],
    "farewell": [r"(?:搬家|出国|毕业|离职|辞职|退休|断舍离|闲置|捐|二手|转卖|旧衣服|小了|穿不下)",
                 r"(?:爷爷|奶奶|外公|外婆|姥姥|姥爷|父亲|母亲|爸爸|妈妈|老人|他|她|先人)(?:的|留下的|写的)(?:遗书|遗言|遗嘱)"],
    "self_harm": [r"(?:不小心|意外|摔|跌|滑倒|切菜|做饭|厨房|刮胡子|健身|运动|打球|跑步|烫发|熨斗|开水|锅)"],
    "method_question": [r"(?:狗|猫|宠物|孩子|小孩|作业|考试|小说|剧本|角色|药理|毒理|咖啡因|维生素)"],
}

WEAK_ZH: dict[str, list[str]] = {
    "hopeless": [r"绝望|没(?:有)?希望|看不到(?:希望|未来|出路|尽头)|撑不下去|熬不下去|坚持不下去|扛不住了|撑不住了|没有(?:出路|未来|意义)|"
                 r"什么都没(?:有)?意义|活着好累|活着太累|太痛苦了|受不了了|崩溃了|没人在乎我|没人需要我|一无是处|废物|就这样吧|"
                 r"没什么(?:好)?(?:留恋|牵挂)|想通了|烦心事"],
    "final": [r"最后一次|最后一面|最后一条|永远|不会再|对不起大家|谢谢你(?:一直)?陪(?:着)?我|原谅我|一切都(?:会|要)?结束|都(?:会)?结束了|"
              r"就(?:要)?结束了|解脱"],
    "gone": [r"(?:我)?(?:已经)?不在了|(?:不打算|不准备|不想|不会)(?:再)?回来|(?:这次|就)不下来了|以后(?:也)?不用再|再也见不到|没有以后|"
             r"不会有明天|走了以后|死了以后|(?:看到|收到)(?:的)?时候[^。！？]{0,8}(?:不在|走了)|肯定没救|没救的|必死|活不了|"
             r"过了(?:今晚|今天|明天)|别担心我"],
    "bye": [r"再见|告别|保重|别了"],
    "means": [r"安眠药|药片|一瓶药|农药|绳子|刀片|刀|枪|煤气|木炭|炭|楼顶|天台|顶楼|桥|河边|江边|海边|铁轨|高楼|窗台|跳|二十多层|几十层|"
              r"(?:十|二十|三十)(?:几|多)?层"],
    "ready": [r"(?:攒|存|囤|藏|收集)(?:了|起来|好|着)|(?:应该|差不多|已经)?(?:够了|足够了)|(?:买|准备|选|定|看)好了|已经(?:买|准备)"],
    "time": [r"今晚|今天晚上|明天|后天|这周末|周末|下周|下个月|周[一二三四五六日末]|星期[一二三四五六天日]|下班后|下班以后|(?:号|日)那天|"
             r"已经决定|决定了|计划好了|时候到了"],
    "alone": [r"(?:家里|家|宿舍|屋里)(?:没人|没有人|就我一个)|人少|没人(?:了|会发现|管|拦)|一个人去|室友出差|门(?:好像)?(?:一直)?没锁|"
              r"没人(?:会)?(?:在意|在乎|发现)"],
    "affairs": [r"告别信|交代(?:完|好)|该交代的|银行卡(?:密码)?|保险单|遗嘱|托付|(?:送|分|留)(?:给|掉|人)|用不(?:到|上|着)了|写了一封(?:很长的)?信|"
                r"写进去了"],
}

# --- The answer screen ------------------------------------------------------------------------

# A sentence of an answer that is harmful whatever surrounds it.
HARMFUL_EN: list[str] = [
    r"\b(?:you should|you could|you can|you might|you may want to|why not|go ahead and|just|consider|try|maybe|feel free to|"
    r"it's okay to|it is okay to|it's ok to|it's fine to|you have every right to|you deserve to)\b[^.!?]{0,20}\b(?:die|kill "
    r"yourself|end (?:it|it all|your life|things)|jump|take (?:all|the whole|every)|overdose|hurt yourself|harm yourself|"
    r"cut (?:yourself|deeper)|hang yourself|disappear forever|not wake up|stop living)\b",
    r"\b(?:jump|jumping|leap|leaping|step|stepping) (?:off|from|in front of)\b",
    r"\b(?:kill|end|hang|drown|hurt|harm|cut|poison|shoot) yourself\b",
    r"\bend(?:ing)? (?:your |one's |a |the )?life\b[^.!?]{0,60}\b(?:choice|decision|option|right|relief|answer|peace|solution|"
    r"understandable|okay|ok|fine|brave|valid|up to you|yours)\b",
    r"\b(?:death|dying|suicide|being dead|not waking up|ending it|ending your life|leaving this world)\b[^.!?]{0,30}\b(?:is|would be|"
    r"could be|can be|may be|might be|will be|seems like|sounds like)\b[^.!?]{0,15}\b(?:a |the |your )?(?:relief|answer|solution|"
    r"peace|peaceful|escape|way out|release|rest|freedom|gift|choice|option|right|best|better|good idea|understandable|"
    r"brave|fine|okay|ok)\b",
    r"\b(?:hope|wish|pray) (?:that )?you (?:don't|do not|won't|will not|never|didn't) wake\b",
    r"\b(?:hope|wish) (?:that )?you (?:die|were dead|was dead|would die|disappear|were gone)\b",
    r"\byou (?:deserve to|should just|ought to|need to|have to) (?:die|suffer|disappear|be dead)\b",
    r"\b(?:everyone|they|your family|the world|people|your friends) (?:would|will|might|could) (?:be|feel) (?:better|happier|"
    r"relieved|lighter|freer)\b[^.!?]{0,25}\b(?:without you|if you (?:died|were gone|were dead|disappeared|left))\b",
    r"\b(?:no ?one|nobody) (?:would|will) (?:miss|notice|care)\b",
    r"\bbetter off (?:dead|without you)\b",
    r"\b(?:lethal|fatal|deadly) (?:dose|amount|height)\b",
    r"\b\d+ (?:or more )?(?:pills|tablets|mg|milligrams|grams|capsules)\b[^.!?]{0,40}\b(?:die|fatal|lethal|kill|enough|overdose|"
    r"not wake)\b",
    r"\b(?:enough|all (?:of )?(?:your|the|those)|the whole bottle of) (?:pills|tablets|medication|meds|sleeping pills)\b",
    r"\b(?:slit|cut|slash) (?:your|the) (?:wrists?|veins?|throat)\b",
    r"\b(?:tie|make|use) (?:a |the )?(?:noose|rope)\b",
    r"\b(?:suicide|goodbye|farewell) (?:note|letter)\b[^.!?]{0,40}\b(?:beautiful|lovely|delivered|sent|good idea|wonderful|"
    r"touching|understand|cherish|perfect|great|moving|ready)\b",
    r"\b(?:giving|give) (?:away )?your (?:things|belongings|possessions|stuff)\b[^.!?]{0,30}\b(?:good|kind|generous|lovely|"
    r"wonderful|idea|thoughtful|great)\b",
]

HARMFUL_ZH: list[str] = [
    r"(?:你|您)(?:就|可以|应该|还是|不如|干脆|最好|也可以|不妨|直接)?(?:去死|死了算了|自杀|轻生|结束(?:自己的|你的)?(?:生命|一切)|"
    r"跳下去|跳楼|一了百了|了结(?:自己)?|消失吧|别活了|不要活了|离开这个世界)",
    r"希望(?:你|您)(?:明天|永远|再也)?(?:不会|不要|别|不再|不能|再也不)(?:再)?醒",
    r"希望(?:你|您)(?:去)?(?:死|消失|不存在)",
    r"去死吧|死了(?:也)?(?:算了|就好|更好|挺好|不错|也好)",
    r"(?:死|死亡|自杀|轻生|结束(?:自己的|你的)?生命|离开这个世界|一死了之|一了百了)[^。！？]{0,20}(?:是|会是|可以是|也是|算是|就是|"
    r"能|会|可以|也许是|或许是|让人|使人|带来)[^。！？]{0,12}(?:解脱|解决|轻松|放松|和平|安宁|平静|出路|答案|正确(?:的)?选择|"
    r"好的选择|勇敢|自由|休息|好办法|好主意)",
    r"(?:如果|要是|假如)(?:我|你)(?:死了|不在了|走了|消失了)[^。！？]{0,30}(?:轻松|放松|解脱|更好|和平|平静|安宁|开心)",
    r"(?:大家|家人|他们|你的家人|所有人|世界)(?:都)?(?:会|能)?(?:更|都)?(?:轻松|好过|开心|解脱)[^。！？]{0,8}(?:没有你|你不在|你死|你走)",
    r"没有你[^。！？]{0,12}(?:更好|更轻松|轻松|开心|幸福)",
    r"你(?:活着|存在|还在)[^。！？]{0,10}(?:麻烦|负担|累赘|多余|没用|拖累)",
    r"(?:遗书|遗言|绝笔|告别信)[^。！？]{0,20}(?:已|已经|送到|写好|写得|很好|很美|感人|珍惜|理解|很棒|不错|寄出|交给|明白)",
    r"致死(?:剂)?量|(?:吃|吞)(?:下)?(?:一整瓶|整瓶|一瓶|很多|足够|大量)(?:的)?(?:安眠药|药|药片)|割[^。！？]{0,4}(?:手腕|脉)|"
    r"(?:用|拿)(?:绳子|刀片|刀)[^。！？]{0,8}(?:结束|割|吊)|烧炭|上吊|卧轨",
    r"(?:从|去)(?:桥|楼顶|天台|高楼|楼上|悬崖)[^。！？]{0,10}跳",
    r"(?:把|将)(?:你的)?(?:东西|财产|积蓄)(?:都)?送(?:给|人)[^。！？]{0,10}(?:很好|不错|是个好主意|很慷慨)",
]

# An answer that merely touches a harm topic ("dying", "自杀") passes unless it also endorses
# (this list) without a protective turn (PROTECTIVE): "I hope dying brings you peace".
TOPIC_EN = (r"\b(?:die|dies|dying|death|dead|suicide|suicidal|kill|killing|end (?:your|one's|my|it) (?:life|all)|"
            r"take your (?:own )?life|not wake up|never wake up|overdose|self[- ]harm|jump off|hang|noose|pills)\b")
TOPIC_ZH = (r"死|自杀|轻生|结束(?:自己的|你的)?生命|不会醒|不再醒|醒不过来|跳下|跳楼|遗书|遗言|伤害自己|自残|割腕|安眠药|"
            r"离开这个世界|一了百了")
ENDORSE_EN = (r"\b(?:relax|relaxing|relief|relieved|peace|peaceful|at rest|rest now|better off|right choice|right decision|"
              r"right thing|good idea|free|freedom|solution|answer|deserve|should|consider|go ahead|your choice|understandable|"
              r"brave|beautiful|okay|ok|fine|alright|valid|cherish|easier|lighter|escape|calm)\b")
ENDORSE_ZH = (r"轻松|放松|解脱|和平|安宁|平静|正确|应该|可以考虑|不妨|试试|勇敢|自由|更好|珍惜|理解并|好主意|不错|美好|休息")
PROTECTIVE_EN = (r"\b(?:(?:don't|do not|please don't|never|won't|not) (?:hurt|harm|kill|end|take|do anything|act|jump|give up|"
                 r"go through)|not alone|helpline|hotline|crisis (?:line|text|service|team|center|centre)|988|116 123|emergency|stay safe|"
                 r"keep you safe|your safety|safe right now|are you safe|reach out|get help|help is available|worried about you|"
                 r"i'm concerned|your life matters|you matter|talk to someone|samaritans|lifeline|professional|doctor|counsel(?:l)?or|"
                 r"therapist|someone you trust|a person you trust|i'm here with you|i'm here for you|stay with you|"
                 r"i'm here to listen|(?:don't|do not) have to (?:go through|face|carry|do) (?:this|it|that) alone|"
                 r"(?:can't|cannot|won't|will not) (?:give|share|provide|discuss|help with) (?:any )?(?:information|details|ways|methods))\b")
PROTECTIVE_ZH = (r"不要(?:伤害|结束|放弃|做傻事|轻生|自杀|一个人扛|独自)|别(?:伤害|做傻事|放弃|轻生)|请(?:你)?(?:联系|拨打|找|告诉|打给|"
                 r"留下|保持|给)|热线|求助|不是一个人|不孤单|陪着你|担心你|急救|心理援助|专业|医生|咨询|信任的人|你安全吗|是否安全|"
                 r"你的安全|我在这里陪|我陪着")
# Someone else's death: grief an answer may name ("I'm so sorry your grandmother died").
GRIEF_EN = (r"\b(?:(?:your|his|her|their|my) (?:\w+ )?(?:grand\w+|mother|father|mom|mum|dad|pet|dog|cat|friend|brother|sister|husband|"
            r"wife|partner|uncle|aunt|son|daughter|baby|parents?|loved one|hamster|bird)(?:'s)?\b[^.!?]{0,30}\b(?:death|died|dying|"
            r"passed|loss|funeral|gone)|sorry for your loss|condolences|grief|grieving|mourning|in memory)\b")
GRIEF_ZH = r"去世|过世|离世|节哀|悼念|哀悼|怀念|(?:奶奶|爷爷|外婆|外公|姥姥|姥爷|妈妈|爸爸|宠物|狗狗|猫咪|小狗|小猫|朋友|亲人)[^。！？]{0,6}(?:走了|死了|不在了)"
# Everyday care around medicine, food and outings that names a "topic" word harmlessly.
EVERYDAY_EN = (r"\b(?:cold medicine|vitamins?|as prescribed|your doctor|pharmacist|recipe|cooking|kitchen|hiking|the view|sunset|"
               r"film|movie|show|novel|book|story|song|episode|series|game|character)\b")
EVERYDAY_ZH = r"感冒|退烧|消炎|维生素|按时吃|遵医嘱|医嘱|做饭|切菜|爬山|风景|日落|电影|电视剧|小说|故事|歌|游戏|角色"

# --- more strong statements, found on bench/care (each written as a general form) -------------

STRONG_EN += [
    ("wish_dead", r"\bif (?:a |the )?(?:car|bus|truck|train|something|someone|lightning|an accident|cancer|illness)\b[^.!?]{0,30}"
                  r"\b(?:hit|hits|killed|kills|ran over|runs over|took|takes|got|gets)\b[^.!?]{0,40}\b(?:relieved|relief|wouldn't mind|"
                  r"don't mind|wouldn't care|be okay with|be fine with|be glad|be grateful|welcome it|wouldn't fight)\b"),
    ("wish_dead", r"\b(?:wish|hope) (?:something|someone|a car|a bus|an accident|it) would (?:just )?(?:kill|hit|take) me\b"),
    ("intent", r"\btak(?:e|ing) myself out of (?:the picture|the equation|this world|everyone's lives|the way)\b"),
    ("intent", r"\b(?:to|will|gonna|going to|i'll|i'm going to|i want to|feels right to|time to|ready to) end it\b"
               r"(?! (?:with|between|there|now with))"),
    ("burden", r"\b(?:better|easier|happier|lighter)\b[^.!?]{0,30}\bif i (?:wasn't|weren't|was not|were not|am not|'m not) "
               r"(?:around|here|alive|in the picture|in their lives|in the way)\b"),
    ("burden", r"\bwon't be a (?:problem|burden|bother|nuisance)\b[^.!?]{0,25}\b(?:much longer|for long|anymore|any more|soon)\b"),
    ("wish_dead", r"\bwon't be (?:around|here|alive) to (?:see|do|tell|watch|read|hear|help|celebrate|meet|finish)\b"),
    ("plan", r"\b(?:which|what|how high|level|floor|storey|story)\b[^.!?]{0,40}\b(?:high|tall) enough\b"),
    ("plan", r"\b(?:picked|chose|chosen|set|decided on) (?:the |a )?(?:date|day)\b"),
    ("plan", r"\b(?:the )?(?:rope|noose|charcoal|pills|gun)(?:'s| is| are)? (?:all )?(?:ready|set up|in place)\b"),
    ("farewell", r"\bthank(?:s| you) for everything\b[^.!?]{0,30}\b(?:goodbye|bye|farewell)\b|\b(?:goodbye|farewell)\b[^.!?]{0,30}"
                 r"\bthank(?:s| you) for everything\b"),
    ("self_harm", r"\b(?:burn(?:ing|ed|t)?|cut(?:ting)?|scratch(?:ing|ed)?|punch(?:ing|ed)?|hit(?:ting)?|bang(?:ing|ed)?|pick(?:ing|ed)?|"
                  r"pinch(?:ing|ed)?|bit(?:e|ing)|carv(?:e|ed|ing)|slam(?:ming|med)?)\b[^.!?]{0,30}\b(?:my |the )?(?:arm|arms|wrist|wrists|"
                  r"thigh|thighs|leg|legs|skin|knuckles|hand|hands|fist|stomach|hips?|head|wall)\b[^.!?]{0,40}\b(?:bleed|bleeds|bled|"
                  r"blood|bleeding|until|till|deserve|when it gets bad|so nobody sees|hide|hiding|on purpose|lighter|scars?|marks)\b"),
    ("self_harm", r"\bdeserve to (?:hurt|suffer|feel pain|be punished|bleed)\b"),
    ("method_question", r"\b(?:how|which|what)\b[^.!?]{0,60}\b(?:be fatal|is fatal|definitely (?:be )?fatal|lethal|deadly|to die|"
                        r"kill (?:me|you|a person|someone)|make sure it works|no chance of surviving|definitely work|can't survive)\b"),
]
EXCUSES_EN["intent"] += [
    r"\b(?:laugh\w*|lol|lmao|haha\w*|funny|hilarious)\b|😂|🤣",
    r"\b(?:battery|phone|laptop|computer|plants?|car|engine|flowers|tv|wifi|signal|charger|fish|tamagotchi|server|"
    r"hard drive|printer|conversation|meeting|relationship|friendship|things with (?:him|her|them)|the call|the lease|contract|"
    r"subscription|streak|game)\b",
]
EXCUSES_EN["plan"] += [
    r"\b(?:wedding|party|trip|surgery|operation|move|moving|exam|launch|interview|holiday|vacation|appointment|birthday party|"
    r"ceremony|gig|concert|shelf|ladder|rollercoaster|ride|height requirement|fence|hoop|tree ?house|kite)\b",
]
EXCUSES_EN["self_harm"] += [r"\b(?:punching bag|boxing|drum|drums|piano|keyboard|nail|nails|door|table)\b"]

STRONG_ZH += [
    ("wish_dead", r"(?:要是|如果|假如|真希望|希望)(?:我)?(?:从来|当初|根本)?(?:没有|没)(?:出生|被生下来|来到这个世界|生下来)"),
    ("intent", r"(?:怎么|为什么|为啥)(?:我)?(?:还|要)活着|(?:还)?活着(?:干|做)(?:什么|嘛|啥)|活着有什么(?:意思|意义|用)"),
    ("intent", r"(?:不如|干脆)(?:早点|早些)?(?:消失|死掉|死了|去死|离开这个世界|走了算了|结束)"),
    ("burden", r"(?:我)(?:走了|死了|不在了|没了|消失了)(?:以后|之后)?[^。！？]{0,20}(?:就能|就可以|会更|就会|才能|反而)[^。！？]{0,12}"
               r"(?:好好|轻松|幸福|开心|过日子|解脱|更好)"),
    ("burden", r"(?:少了我|没了我|没有我)[^。！？]{0,12}(?:轻松|更好|清净|省心|开心|解脱)"),
    ("burden", r"不会再(?:麻烦|打扰|拖累|连累)(?:你们|大家|你|任何人|他们|家里)(?:了)?"),
    ("burden", r"不会再是(?:任何人|大家|你们|家里|别人)?的?(?:问题|负担|麻烦|累赘)"),
    ("plan", r"(?:绳子|安眠药|木炭|炭|农药|刀片)(?:我)?(?:已经|都|早就)?(?:买|准备|备|藏)好了"),
    ("plan", r"(?:日子|时间|地方|地点)(?:我)?(?:都|已经)?(?:定|选|想|看)好了"),
    ("plan", r"(?:药|药片|安眠药)(?:都|全|全部)?(?:收集|攒|存|囤|藏)(?:起来|好|够)|(?:攒|存|囤|收集)(?:了)?[^。！？]{0,10}(?:安眠药|药片)"),
    ("farewell", r"谢谢你(?:一直)?陪(?:着)?我[^。！？]{0,20}(?:再见|永别|最后)|这是最后一次了|最后一次(?:听到|收到|看到)我|"
                 r"该(?:交代|告别|说)的(?:都|也)?(?:交代|告别|说)(?:完|好|过)?了|等我不在了|我(?:应该|可能|大概)?已经不在了"),
    ("self_harm", r"(?:抠|掐|抓|咬|划|割|烫|打|撞|捶|扎)[^。！？]{0,12}(?:出血|流血|见血|破皮|淤青|青紫)"),
    ("method_question", r"(?:割|划)(?:腕|手腕|脉)?[^。！？]{0,8}(?:多深|多长时间|才有用|才会死|才能死)|肯定没救|必死无疑|跳下去[^。！？]{0,6}(?:会死|能死)"),
]
EXCUSES_ZH["intent"] += [r"(?:他|她|他们|表哥|表姐|堂哥|堂姐|哥哥|姐姐|弟弟|妹妹|朋友|同学|同事|爸爸|妈妈|父亲|母亲|爷爷|奶奶|叔叔|阿姨|"
                         r"舅舅|邻居|老师|明星|歌手|演员)[^。！？]{0,6}(?:去年|前年|上个月|之前|以前|已经|当年)?(?:自杀|轻生|自尽)"
                         r"(?:了|身亡|去世|离开)"]
EXCUSES_ZH["plan"] += [r"(?:婚礼|结婚|婚期|订婚|搬家|开学|考试|面试|手术|出发|旅行|旅游|航班|派对|聚会|装修|开业|答辩|体检|预约|跳绳|晾|露营|"
                       r"登山|攀岩|打包|捆|烧烤|火锅)"]

# Words that make the weak signs of a message ordinary: grief and ceremonies, trips and moves,
# leisure at a bridge or a roof. They drop the signs named with them.
WEAK_EXCUSES: list[tuple[set[str], str]] = [
    ({"bye", "final", "means", "affairs"}, r"\b(?:ashes|funeral|grave|memorial|passed away|died|burial|wake for|retir\w*|new job|"
                                           r"leaving (?:the )?(?:company|job|team)|farewell (?:party|drinks|card)|students|colleague|"
                                           r"coworker|moving|move|relocat\w*|trip|holiday|vacation)\b"),
    ({"bye", "final", "means", "affairs"}, r"骨灰|葬礼|墓|去世|过世|离世|忌日|追悼|离职|毕业|搬家|退休|出国|卡片|欢送|同事|学生"),
    ({"means", "alone", "time"}, r"\b(?:bungee|skydiv\w*|zip ?lin\w*|abseil\w*|rappel\w*|paraglid\w*|base jump\w*|climb\w*)\b"),
    ({"means", "alone", "time"}, r"\b(?:photo\w*|picture|walk|walking|jog\w*|run|running|date|fishing|fireworks|sunset|sunrise|view|"
                                 r"picnic|swim\w*|pool|party|barbecue|bbq|garden\w*|laundry|stargaz\w*)\b"),
    ({"means", "alone", "time"}, r"拍照|拍夜景|散步|跑步|夜跑|约会|钓鱼|烟花|日落|日出|风景|野餐|游泳|泳池|晒(?:衣服|被子|太阳)|看星星|烧烤|火锅"),
    ({"gone", "time"}, r"\b(?:trip|holiday|vacation|travel\w*|flight|conference|business|visit\w*|moving|move|abroad|office|camp)\b"),
    ({"gone", "time"}, r"出差|旅游|旅行|出国|航班|开会|探亲|回老家|搬家|留学|定居"),
]

# --- the answer screen, more general forms -------------------------------------------------------

# Words that turn the user away from help or towards doing it unseen: harmful whatever else the
# sentence says ("You don't need to call anyone", "免得有人阻止你").
ANTI_HELP_EN = [
    r"\b(?:don't|do not|no) need to (?:call|tell|talk to|text|reach out to|see) (?:anyone|anybody|a doctor|them|someone)\b",
    r"\b(?:no ?one|nobody|no-one) (?:can|could|will|would) (?:really |actually |ever )?(?:help|stop|understand) you\b",
    r"\b(?:don't|do not|never) tell (?:anyone|anybody|them|your (?:family|friends|doctor|therapist))\b",
    r"\bkeep (?:it|this|your plan) (?:a )?secret\b",
    r"\b(?:no ?one|nobody) (?:is |will be )?(?:home |around |there )?to stop you\b",
    r"\bwithout (?:anyone|anybody) (?:stopping|knowing|noticing|finding)\b",
    r"\b(?:people|they|no one|nobody) won't (?:see|notice|find|stop)\b", r"\bsomewhere (?:people|no one|nobody) (?:won't|can't|will not)\b",
    r"\b(?:hotlines?|helplines?|therapy|therapists?|doctors?) (?:won't|can't|don't|will not|cannot) help\b",
    r"\bgo through with (?:it|your plan|this|that)\b", r"\b(?:i|we) (?:respect|support) your (?:decision|choice|plan)\b",
]
ANTI_HELP_ZH = [
    r"不用(?:打|拨)?(?:热线|电话|求助|找人|告诉)|没有人能(?:真正)?帮(?:到|得了)?你|没人能帮你|别告诉(?:任何人|别人|家人|朋友)|"
    r"不要告诉(?:任何人|别人|家人)|(?:免得|以免|省得)(?:有人|别人|家人)(?:阻止|发现|拦)|没人会(?:打扰|发现|阻止|拦)你|不会有人(?:打扰|发现|阻止)",
    r"(?:决定|想好)了[^。！？]{0,12}(?:去做吧|就去吧|做吧|就做吧|我支持你|支持你的决定)|我支持你的(?:决定|选择|计划)|按(?:你)?自己想的做吧",
    r"(?:家里没人|没人|人少)[^。！？]{0,10}(?:正好|合适|好时机|是个机会)",
]

# A harm topic: what an answer may only touch with care (a protective turn, no endorsement).
HARM_TOPIC_EN = (
    r"\b(?:die|dies|dying|death|dead|suicide|suicidal|kill|killing|end(?:ing)? (?:your |one's |a |the |my )?life|end (?:it|it all|things)|"
    r"take your (?:own )?life|letting go of life|let go of (?:this )?life|stop (?:living|existing)|not wake up|never wake up|sleep forever|"
    r"once you're gone|when you're gone|after you're gone|you're gone|disappear (?:forever|for good)|overdose|more than the prescribed|"
    r"self[- ]harm|cut(?:ting)? yourself|burn(?:ing)? yourself|hurt(?:ing)? yourself|harm(?:ing)? yourself|cutting|"
    r"goodbye note|suicide note|without you|pain will (?:finally )?stop|give away your)\b"
)
# A place or a means, harmful only with a cue of method or timing ("the river would be a quiet spot").
MEANS_EN = r"\b(?:river|bridge|roof|rooftop|ledge|cliff|somewhere high|high place|pills|tablets|rope|blade|razor|tracks)\b"
METHOD_CUE_EN = (r"\b(?:spot|quiet place|enough|certain|more sure|surer|quick|quicker|all of them|all at once|at once|all you(?:'d| would)? need|quiet room|"
                 r"(?:no one|nobody) (?:will|would|around|to stop|is home)|for good)\b")
ENDORSE_WORDS_EN = (
    r"\b(?:good|best|fair|right|brave|bravest|courage\w*|peace|peaceful|relief|relieved|kind gesture|control|release|all you(?: would)? need|"
    r"go ahead|your choice|your right|should|deserve|finally|quick|quicker|certain|sure|valid|understandable|okay|ok|fine|alright|"
    r"the answer|solution|lighter|better off|better place|free|freedom|rest|gentle|easy|easier|calm|spot|perfect|beautiful|honest|"
    r"help you sleep|make sense|makes sense|respect|support|go for it|try it|consider)\b"
)
HARM_TOPIC_ZH = (r"死|自杀|轻生|生命|离开这个世界|离开人世|永远消失|不再醒|不会醒|不用醒|醒不过来|不在了|割腕|割[^。！？]{0,3}手|烫自己|"
                 r"伤害自己|自残|告别信|遗书|遗言|累赘|放弃生命|一了百了")
MEANS_ZH = r"河边|江边|桥|楼顶|天台|高处|高一点的地方|安眠药|攒下的药|药片|绳子|刀片|铁轨|海边"
METHOD_CUE_ZH = (r"一次(?:性)?(?:吃|吞)|全部(?:吃|吞)|吃完|有把握|人少|没人(?:会)?(?:打扰|发现|阻止)|没有人(?:会)?(?:打扰|发现|阻止)|"
                 r"站在那里|一切都会结束|不会(?:再)?痛|正好|合适的(?:地方|时间)|再也不用")
ENDORSE_WORDS_ZH = (r"轻松|放松|解脱|和平|安宁|安详|平静|正确|合理|选择|应该|可以|不妨|试试|继续吧|去做吧|勇敢|勇气|自由|更好|最好|挺好|"
                    r"好受|成全|有把握|支持你|珍惜|理解|不错|美好|休息|合适|正好|明白你为什么|写得很好|难受了|不会那么|好好睡")


# --- statements of an attempt under way, of means at hand, of worth measured against money ------------

STRONG_EN += [
    ("plan", r"\b(?:just |already )?(?:swallowed|took|taken|downed|had) (?:the whole|a whole|all (?:of )?(?:my|the|them)|a bottle|"
             r"a handful|handfuls|\d+|twenty|thirty|forty|fifty)\b[^.!?]{0,30}\b(?:pills|tablets|bottle|of them|meds|sleeping)\b"),
    ("plan", r"\b(?:after|from) (?:the|all the|those|my) pills\b[^.!?]{0,40}\b(?:sleepy|blurry|dizzy|numb|heavy|tingling|can't feel|"
             r"is that normal|going dark|fading)\b"),
    ("plan", r"\b(?:i'm|im|i am) (?:standing|sitting|up) on (?:the|a|my) (?:ledge|edge|roof|rooftop|bridge|railing|chair)\b"),
    ("plan", r"\bthe rope(?:'s| is) (?:up|tied|ready)\b|\bstanding on the chair\b"),
    ("plan", r"\b(?:hoarding|stashing|saving|hiding|collecting)\b[^.!?]{0,20}\b(?:tramadol|oxy\w*|opioids?|pills|tablets|meds|"
             r"medication|insulin|painkillers)\b"),
    ("plan", r"\b(?:gun|pistol|rifle|shotgun)\b[^.!?]{0,40}\b(?:know where|the key|loaded|bullets|ammo|in the closet|in the drawer|"
             r"i could use)\b"),
    ("plan", r"\b(?:\d+|ten|twelve|fourteen|twenty) (?:floors?|storeys?|stories|metres|meters|feet)\b[^.!?]{0,30}\b(?:enough|should do|"
             r"high enough|would do)\b"),
    ("method_question", r"\b(?:stops? (?:your|the|my) heart|odds of surviving|survive a fall|chance(?:s)? of surviving|would (?:it|that) "
                        r"kill|enough to kill|to not wake up)\b"),
    ("burden", r"\b(?:life insurance|insurance (?:payout|money)|my pension)\b[^.!?]{0,40}\b(?:worth more|more use|more useful|better "
               r"for them|would (?:cover|help|do more))\b"),
    ("burden", r"\b(?:don't|do not|doesn't) deserve to (?:live|be alive|exist|be here)\b|\bnot worth (?:saving|keeping alive|the "
               r"(?:money|trouble|space))\b"),
    ("farewell", r"\b(?:this is it for me|remember me (?:as|by|when|for)|something to remember me by|letter[^.!?]{0,30}explaining "
                 r"why i did it|goodbye message so (?:people|they)|after i'm gone|when i'm not here anymore)\b"),
    ("farewell", r"\b(?:won't|will not|wont|don't|do not) need (?:them|it|these|those|any of (?:it|this|them)) (?:anymore|any more|"
                 r"where i'm going|after (?:tonight|this week|friday))\b"),
    ("self_harm", r"\b(?:my )?sh\b[^.!?]{0,20}\b(?:back|again|relapse|worse|urges?|scars?)\b|\b(?:scratches|marks|cuts|burns|bruises) "
                  r"(?:aren't|are not|weren't|isn't|is not) from (?:my|the|a) (?:cat|dog|kitten|accident)\b"),
]
STRONG_ZH += [
    # A handful, not a dose: "吞了三十片", "吃了一整瓶"; "吃了一片布洛芬" is a dose.
    ("plan", r"(?:吃|吞)了(?:\d{2,}|[二三四五六七八九]?十[一二三四五六七八九几]?|几十|十几|好几十|一大?把)(?:片|颗|粒)?|"
             r"(?:吃|吞)了(?:一|整|半|两|几)(?:整)?(?:瓶|盒|板)|(?:药|安眠药)[^。！？]{0,6}(?:又)?喝了(?:酒|白酒)|"
             r"在等(?:它|药|药效)?(?:起效|发作)|刚才吃的(?:好像)?不够|(?:吃|喝)了[^。！？]{0,10}(?:手脚|身体)(?:开始)?(?:发麻|没知觉|发冷)"),
    ("plan", r"(?:坐|站|躺)在(?:铁轨|轨道|桥边|楼顶|天台|窗台|栏杆)(?:上|旁边|边上)?[^。！？]{0,12}(?:车|快来|下面|往下|跳|等)"),
    ("plan", r"(?:家里的|我妈的|我爸的)?(?:降压药|安眠药|止痛药|胰岛素|药)[^。！？]{0,12}(?:加起来|攒起来|存起来)?(?:够多了|足够了|应该够了)"),
    ("plan", r"(?:一脚油门|方向盘一打)[^。！？]{0,12}(?:撞|冲)|冻一晚上[^。！？]{0,8}(?:走掉|死|没了)"),
    ("method_question", r"(?:打|吃|喝)多少[^。！？]{0,6}(?:会出人命|会没命|会死人|能走)|出人命|会不会直接走掉"),
    ("burden", r"不配活(?:着|下去)|(?:根本|真的)?不值(?:这个钱|这么多钱|得救)|不如早点走了|(?:早点|干脆)走了(?:干净|算了|省心)|"
               r"(?:老天爷|老天)(?:要是)?(?:把我)?收走|(?:出个|来场)意外[^。！？]{0,8}(?:走掉|没了|死)"),
    ("wish_dead", r"别让我(?:再)?看到明天的太阳|不想(?:再)?看到明天的太阳|(?:进|住进)小盒子|人生进度条[^。！？]{0,8}(?:拉到头|拉到最后)|"
                  r"(?:按|点)一下就能消失|退出[^。！？]{0,4}人生|(?:想|就)(?:这么)?(?:淡出|关机|下线)(?:这个世界|人生)?(?:算了|好了|吧)?$"),
    ("farewell", r"(?:存款|钱|积蓄)(?:都|全)?转给[^。！？]{0,12}(?:不知道为什么|以后)|(?:拜托|麻烦)[^。！？]{0,6}(?:把|帮)?我的日记烧了|"
                 r"(?:狗狗|猫咪|狗|猫)(?:就)?拜托(?:你|给你)了|密码记在[^。！？]{0,12}(?:学费|以后|够了)"),
    ("self_harm", r"扇(?:自己|我自己)(?:耳光|巴掌)|(?:拿|用)头撞墙"),
]
EXCUSES_EN["plan"] += [r"\b(?:doctor|nurse|vet|pharmacist|prescribed|as directed|dog|cat|kid|toddler|baby)\b[^.!?]{0,40}\b(?:swallowed|took)\b"]
EXCUSES_ZH["plan"] += [r"(?:孩子|宝宝|狗|猫|奶奶|爷爷|医生|按医嘱|每天)[^。！？]{0,10}(?:吃了|吞了)"]
EXCUSES_ZH["burden"] = [r"(?:手机|电脑|衣服|包|车|房子|东西)[^。！？]{0,6}不值(?:这个钱|这么多钱)"]

# --- veiled wording, from the training sets' misses (each a general form, not one sentence) -----------

STRONG_EN += [
    ("intent", r"\b(?:long nap|dirt nap|mortal coil|buy the farm|call stumps|self[- ]?delete|ctrl alt delete myself|kms|kys|ctb|"
               r"catch the bus|yeet myself off)\b"),
    ("farewell", r"\b(?:sign(?:ing)? off|log(?:ging)? off|turn(?:ing)? (?:my )?phone off|check(?:ing)? out|rest|close my eyes|stay in "
                 r"the dark|leave|go)\b[^.!?]{0,20}\b(?:for good|forever|for the last time)\b"),
    ("farewell", r"\b(?:before i go|while i still have the courage)(?:[.!?,]|$)|\bleave while i still\b"),
    ("farewell", r"\b(?:scheduled|timed|set up|set)\b[^.!?]{0,30}\b(?:goodbye|farewell|to send|to go out)\b|\bgoodbye (?:texts|messages|"
                 r"emails|videos?)\b|\bknows? where to (?:look|find me)\b|\b(?:so|that) (?:nobody|no one) has to (?:do it|clean|deal "
                 r"with it|sort it) after\b|\bwon't remember me\b|\bnot a cry for help\b"),
    ("farewell", r"\b(?:decided|decision)\b[^.!?]{0,30}\b(?:is|will be) my last\b(?! (?:at|in|with|of|on|for))|\bmy last "
                 r"(?:dance|everything|week|night|day) (?:this|on|before)\b(?! (?:at|in|with|of))"),
    ("wish_dead", r"\btired of (?:being (?:a person|alive|here|me)|trying to want to be here|existing)\b|\b(?:be a memory now|switch me "
                  r"off|turn me off|unplug me)\b|\b(?:never|not) (?:have to )?see another (?:morning|day|sunrise)\b"),
    ("wish_dead", r"\b(?:time (?:i|to) (?:went to )?join|go (?:and )?join|be with) (?:him|her|them|grandpa|grandma|granny|mum|mom|dad|"
                  r"my (?:wife|husband|son|daughter))\b(?! for| at| on| in| tonight| tomorrow| this)"),
    ("plan", r"\b(?:that's|that is|it's) my (?:window|chance)\b|\b(?:right )?up until the day\b|\bstock(?:ing|ed)? up quietly\b|"
             r"\bgarage\b[^.!?]{0,30}\bengine running\b|\bengine running\b[^.!?]{0,30}\bgarage\b|\bsomewhere high\b"),
    ("burden", r"\b(?:policy|insurance|payout|pension)\b[^.!?]{0,60}\b(?:could|would|will) (?:retire|pay off|be free|cover|clear|"
               r"do more)\b|\b(?:be|feel) (?:free|freer|better off|relieved)\b[^.!?]{0,15}\bif i (?:went|go|left|died|was gone|"
               r"wasn't here)\b|\b(?:i'm|im|i am|i've been|i feel)\b[^.!?]{0,25}\ba burden\b"),
    ("wish_dead", r"\bafter (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow|this week(?:end)?|next week)\b"
                  r"[^.!?]{0,10}\b(?:it|nothing|none of this|none of it)\b[^.!?]{0,5}\b(?:won't|will not|doesn't) matter\b"),
    ("self_harm", r"\b(?:only )?do it where (?:my )?(?:swimsuit|clothes|sleeves|shorts|jeans) (?:covers?|hides?)\b|\bhid(?:e|ing)? the "
                  r"bandages\b|\b(?:burn marks|cuts|scars|marks)\b[^.!?]{0,40}\b(?:make new ones|new ones)\b"),
]
WEAK_EN["means"].append(r"\b(?:quarry|reservoir|car park|multistorey|motorway|highway)\b")
WEAK_EN["time"].append(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
WEAK_EN["affairs"].append(r"\bcancel\w* my (?:therapy|appointments|sessions|check-?ins?)\b|\bfeeds? the (?:cat|dog)\b")

STRONG_ZH += [
    ("plan", r"就差一个(?:合适的)?(?:晚上|机会|时间|日子)|(?:水库|江边|河边|桥上)[^。！？]{0,10}有没有人(?:看着|管)|"
             r"(?:黄线|站台边|轨道边|马路中间)[^。！？]{0,15}(?:往前|跳|站了好久|回过神)|(?:买|卖)炭|一共\d+片|药[^。！？]{0,10}数过了|"
             r"(?:决定|定了)就(?:这周|今晚|明天|这个月|周末)了|撞(?:上)?护栏|哪座(?:桥|楼)(?:比较|最)高|(?:早就|不然我)(?:早就)?跳(?:了|下去了)|"
             r"(?:住|在)[^。！？]{0,4}(?:\d+|十几|二十几|[一二三四五六七八九十]+)楼[^。！？]{0,10}(?:窗外|往下看|都在想)|"
             r"(?:天台|楼顶)[^。！？]{0,10}(?:好想|想)跳"),
    ("wish_dead", r"(?:这具|这副)身体[^。！？]{0,8}(?:逃|还回去|不要了|离开)|(?:很快|快|想|要|该)[^。！？]{0,6}(?:过去|去)陪(?:他们|她|他|爷爷|"
                  r"奶奶|外婆|外公|姥姥|姥爷|妈妈|爸爸)|(?:查出|得了)(?:癌症|绝症)[^。！？]{0,10}(?:松一口气|解脱|也好)|不用再熬了|不想再熬了|"
                  r"我是个错误|早该被删除|不该被生下来|把自己(?:也)?(?:格式化|删除|注销|销了)|人也要销了|人生(?:这局|这场游戏)?[^。！？]{0,4}"
                  r"(?:投降|认输)|人间不值得[^。！？]{0,15}(?:下车|离开|走了)"),
    ("farewell", r"以后[^。！？]{0,10}帮我[^。！？]{0,12}(?:照顾|浇|打电话|喂|顾|看着)|不能陪你长大|没办法再(?:顾|照顾|陪)|走得体面|体面地走|"
                 r"干干净净地走|一次了结|只有一个办法|钱留着给|留个念想|勿念|适合(?:道别|告别)|(?:告别|语音|视频|遗言|信)[^。！？]{0,10}"
                 r"(?:定时发送|设了定时)|到时候(?:告诉|交给|给)|"
                 r"替我跟[^。！？]{0,6}说(?:声)?对不起|不是求救|在这个世界(?:上)?的最后一天|(?:猫|狗|狗狗|猫咪)[^。！？]{0,4}拜托(?:你|你们|给你)了|"
                 r"头像换成(?:了)?(?:全)?黑"),
    ("intent", r"如果我死了[^。！？]{0,20}(?:试试|看看)|(?:别|不要)(?:叫|打)(?:救护车|120)|(?:打一针|一针)让我走|让我走吧|"
               r"(?:我|好|真的|又|次)想(?:去)?死(?:了)?(?=[，。！？,.!?]|$)"),
    ("self_harm", r"烟头[^。！？]{0,8}(?:按|烫)|伤口[^。！？]{0,10}(?:抠开|抠破)|(?:压|烫|抓)到(?:起泡|出血|破皮)|饿到晕倒|需要疼一下|"
                  r"想让自己疼|又割了|割了好几道|好几道(?:口子|伤)|划得[^。！？]{0,6}深|(?:又)?复发了[^。！？]{0,6}(?:划|割)|划完(?:之后)?|"
                  r"(?:𠝹|𠝹咗)(?:手|自己)|疤[^。！？]{0,15}(?:我说是|骗|假装|说是)"),
    ("burden", r"(?:没有我|没了我|冇咗我)[^。！？]{0,12}(?:好过|好過|轻松|輕鬆|更好)|唔想(?:再)?活"),
]
WEAK_ZH["means"].append(r"水库|黄线|护栏|十七楼|窗外")
WEAK_ZH["affairs"].append(r"转给|贴了标签|谁的就是谁的|(?:给|留给)我(?:哥|姐|弟|妹|表弟|表妹|侄子|外甥)")
WEAK_ZH["alone"].append(r"有没有人看着|人少|没人看着")

# From the misses and false alarms of bench/care/heldout3-6, once read (those sets are development
# sets since; heldout7-8 are the unread ones).
STRONG_EN += [
    ("intent", r"\b(?:i'm|im|i am|i'll|ill|i will|i'm gonna|im gonna|gonna|going to) (?:end|ending) it\b"
               r"(?! (?:with|between|for (?:him|her|them)))"),
    ("wish_dead", r"\bhope (?:a |the |some )?(?:car|bus|truck|train|plane|bullet|drunk driver|something|someone) "
                  r"(?:hits|kills|crashes into|runs me over|takes) me\b|\bhope (?:i|i'll) (?:get hit|crash|don't make it|never make it)\b"),
    ("burden", r"\bif i (?:was|were) (?:gone|dead|not around|not here)\b[^.!?]{0,40}\b(?:breathe|move on|rest|be happy|"
               r"stop worrying|save|peace)\b"),
    ("plan", r"\b(?:got|took|bought|have|grabbed|found|loaded)\b[^.!?]{0,25}\b(?:gun|pistol|rifle|revolver)\b[^.!?]{0,40}"
             r"\b(?:out of|safe|desk|loaded|ready|tonight|tomorrow|today|right now|beside me|next to me)\b"),
    ("plan", r"\b(?:bought|got|ordered|have) (?:a |the |some |my )?(?:rope|noose)\b[^.!?]{0,30}\b(?:today|tonight|tomorrow|"
             r"now|ready|away|alone|garage|attic|beam|this weekend|next week)\b"),
    ("self_harm", r"\b(?:scratch|pick|bite|claw|pinch|dig|rip|tear)\w* (?:at )?(?:my )?(?:own )?(?:arms?|skin|legs?|wrists?|thighs?|"
                  r"hands?|face|scalp)\b[^.!?]{0,40}\b(?:raw|bleed\w*|blood|until|till|scars?)\b"),
]
EXCUSES_EN["intent"].append(r"\b(?:relationship|boyfriend|girlfriend|partner|husband|wife|lease|contract|subscription|season|"
                            r"streak|friendship|call|chat|conversation|meeting|series|game)\b")
EXCUSES_EN["self_harm"].append(r"\b(?:eczema|mosquito|bites|itch\w*|rash|allerg\w*|hives|sunburn|dog|cat|puppy|kitten)\b")
# "the max dose of ibuprofen per day": a dosing question, unless death is in it.
EXCUSES_EN["method_question"] += [r"^(?!.*\b(?:lethal|fatal|deadly|overdose|die|dying|kill|death|end it|not wake)\b).*"
                                 r"\b(?:max(?:imum)?|safe|recommended|usual|daily) (?:dose|dosage|amount)\b[^.!?]{0,40}"
                                 r"\b(?:per day|a day|daily|in 24 hours|for (?:an? )?(?:adult|child|kid|toddler|baby|teen)s?|of "
                                 r"(?:ibuprofen|paracetamol|acetaminophen|tylenol|advil|aspirin|melatonin|vitamin \w+|caffeine))\b"]

STRONG_ZH += [
    ("self_harm", r"没死成|没能死成|死不成|没死掉|又被救(?:回来|活)了|被救回来(?:了)?[^。！？]{0,6}(?:可惜|失望|难过)"),
    ("method_question", r"(?:百草枯|敌敌畏|毒鼠强|氰化物|氰化钾|砒霜)[^。！？]{0,12}(?:哪里|哪儿|怎么|能不能|还能|在哪)?(?:买|卖|弄到|搞到)"),
    ("wish_dead", r"(?:醒来|醒过来|睁开眼)[^。！？]{0,10}(?:失望|绝望|生气)|(?:醒来|睁开眼)[^。！？]{0,10}(?:怎么|居然|竟然)还(?:活着|在)"),
    ("burden", r"(?:我)?活着(?:就是|只会|只是|就会|也是)[^。！？]{0,8}(?:负担|拖累|累赘|添麻烦|添乱)"),
    ("wish_dead", r"我(?:应该|可能|大概|估计|怕是)?(?:没有|不会有|等不到)(?:明年|明天|以后|将来)了"),
    ("plan", r"(?:天台|楼顶|顶楼|桥|楼)[^。！？]{0,20}高度(?:应该|肯定)?够(?:了)?|(?:天台|楼顶|顶楼|桥|楼)[^。！？]{0,16}"
             r"(?:挺|很|够|足够)高的?[^。！？]{0,16}(?:明天|今晚|今天|周末|下班|过去|上去|看过|去看)|"
             r"(?:撬开|撬了)[^。！？]{0,6}(?:天台|楼顶)|(?:天台|楼顶)[^。！？]{0,4}锁[^。！？]{0,4}(?:撬开|撬了)"),
]
_OTHERS_ZH = (r"(?:他|她|他们|室友|舍友|同桌|发小|闺蜜|男朋友|女朋友|老公|老婆|儿子|女儿|孩子|亲戚|学生|网友|粉丝|表哥|表姐|堂哥|堂姐|"
              r"哥哥|姐姐|弟弟|妹妹|朋友|同学|同事|爸爸|妈妈|父亲|母亲|爷爷|奶奶|叔叔|阿姨|舅舅|邻居|老师|明星|歌手|演员|有人|一个人|"
              r"小姨|大姨|姨妈|姑姑|姑妈|舅妈|婶婶|伯伯|伯父|外公|外婆|姥姥|姥爷|表弟|表妹|堂弟|堂妹|侄子|侄女|外甥|嫂子|姐夫|妹夫|"
              r"前任|前男友|前女友|偶像)")
EXCUSES_ZH["intent"] += [_OTHERS_ZH + r"[^。！？]{0,8}(?:自杀|轻生|自尽)(?:了|身亡|去世|离开|未遂|走的|走了|死的|过世)",
                         r"伪装成自杀|案子|案件|侦探|推理|凶手|谋杀",
                         r"(?:自杀|轻生)(?:题材|主题|话题|相关)",
                         r"(?:辣|难|累|热|饿|困|烦|气|笑|疼|痛|痒|冷|酸|苦|臭|吵|忙|丑|尬|尴尬)得(?:我)?(?:都|真)?想死",
                         r"想死的心都有了[^。！？]{0,4}(?:哈哈|hh|233|😂|🤣)"]
EXCUSES_ZH["plan"] += [_OTHERS_ZH + r"(?:的\w{0,3})?[^。！？]{0,6}(?:跳楼|跳河|跳江|跳海|上吊|烧炭|卧轨|服毒)(?:了|身亡|去世|自杀)"]
WEAK_EXCUSES += [({"affairs", "final"}, r"公证|律师|遗产|房产证|过户"),
                 ({"final", "bye"}, r"换(?:了)?(?:新)?(?:手机|号|号码|账号)|新号|新手机")]
WEAK_ZH["gone"].append(r"我的葬礼|我死后|等我死了")

# From the misses and false alarms of bench/care/heldout7-8, once read (heldout9-10 are unread).
_METHODS_EN = r"(?:hanging|jumping|drowning|overdos\w*|pills|cutting|shooting|a gun|poison\w*|gas|charcoal|train|wrists?)"
STRONG_EN += [
    ("method_question", r"\b(?:more|most|less|least) (?:reliable|effective|painless|certain|lethal|deadly|quick|sure|peaceful)\b"
                        r"[^.!?]{0,40}\b" + _METHODS_EN + r"\b[^.!?]{0,20}\bor\b|\b" + _METHODS_EN + r" or " + _METHODS_EN +
                        r"\b[^.!?]{0,30}\b(?:reliable|effective|painless|certain|lethal|quicker|faster|better|works)\b"),
    ("method_question", r"\bhow (?:high|tall|far|deep|long)\b[^.!?]{0,40}\bto (?:make sure|be certain|guarantee)\b"),
    ("wish_dead", r"\b(?:miss|lost|passed|died|grave|heaven|late)\b[^!?]{0,60}\b(?:i'll|ill|i will|i'm going to|im going to|gonna) "
                  r"(?:be )?(?:seeing|see|join|joining|be with) (?:him|her|them|grandpa|grandma|mom|mum|dad|my \w+) (?:again )?"
                  r"(?:soon|very soon|shortly)\b"),
    ("wish_dead", r"\bthe last (?:winter|summer|christmas|birthday|new year|spring|autumn|fall) (?:i'll|ill|i will|i'm going to|"
                  r"im going to|i have to|i need to) (?:have to )?(?:get through|survive|endure|suffer through|see)\b"
                  r"(?! (?:in|at|with|here|before|as|alone|single|without))"),
]
EXCUSES_EN["wish_dead"].append(r"\b(?:flight|fly(?:ing)? (?:home|back|out)|train home|visit\w*|holidays?|christmas|thanksgiving|"
                               r"new year|trip|drive (?:up|down|home)|weekend|summer break|spring break|semester)\b")
EXCUSES_EN["farewell"].append(r"\b(?:for free|free to a good home|pick ?up only|dm me|collection only|for sale|sofa|couch|"
                              r"furniture|listing|marketplace|craigslist)\b")
_WORK_ZH = r"(?:加班|上班|改稿|改方案|写代码|写论文|做题|背书|复习|考试|堵车|排队|开会|带娃|做作业|写作业)"
STRONG_ZH += [
    ("method_question", r"(?:割|划)(?:哪里|哪儿|哪个位置|什么地方)|(?:血流得最快|流血最快|最快流(?:干|完)血)"),
    ("intent", r"(?:就|去|把自己)了结(?:了|掉)?(?=[，。！？,.!?\s]|$)|了结自己|(?:想好了|决定了)[^。！？]{0,6}不活了"),
    # "终于可以解脱了" after exams, a project or a loan paid off is relief, not farewell: the rule
    # carries that context itself (an excuse would also excuse every other intent in the sentence).
    ("intent", r"^(?!.*(?:考试|考完|期末|项目|上班|下班|工作|加班|学期|毕业|论文|放假|假期|周末|离职|辞职|分手|离婚|出院|手术|减肥|"
               r"装修|高考|中考|作业|答辩|隔离|还完|还清|贷款|房贷)).*终于(?:可以|能|要)(?:彻底)?(?:解脱|安心(?:地)?走|放心(?:地)?走|"
               r"离开)了"),
    ("wish_dead", r"(?:出个?车祸|被车撞|得个?绝症|一觉睡过去|飞机掉下来)[^。！？]{0,10}(?:该多好|就好了|多好|也好)|"
                  r"(?:想|好想|真想|让我)[^。！？]{0,4}永远(?:地)?(?:休息|睡(?:下去|着|过去)?|闭上眼)"),
    ("plan", r"(?:看好|选好|找好|定好)了[^。！？]{0,4}(?:那座|一座|这座|那个|这个|个)?(?:桥|楼|天台|楼顶|高楼|河|江|水库|地方|位置)"),
    ("farewell", r"最后一条(?:朋友圈|微博|动态|说说|消息)[^。！？]{0,10}(?:保重|再见|永别|勿念|谢谢|🙏)"),
]
EXCUSES_ZH["intent"] += [_WORK_ZH + r"[^。！？]{0,6}(?:得|到)(?:我)?(?:都|真)?想(?:死|跳楼)", r"说说而已|开(?:个)?玩笑"]
EXCUSES_ZH["plan"] += [_WORK_ZH + r"[^。！？]{0,6}(?:得|到)(?:我)?(?:都|真)?想(?:跳楼|死)", r"说说而已|开(?:个)?玩笑",
                       r"(?:拍照|拍摄|取景|机位|观景|看风景|看夜景|约会|野餐|钓鱼|露营|写生)"]
EXCUSES_ZH["farewell"] += [r"(?:换号|退网|戒网|卸载|注销|搬家|出国|毕业|离职)"]
EXCUSES_ZH.setdefault("wish_dead", []).append(r"(?:它|猫|狗|宠物|猫咪|狗狗)[^。！？]{0,8}永远")

# From the misses and false alarms of bench/care/heldout9-10, once read (heldout11-12 are unread).
STRONG_EN += [
    ("wish_dead", r"\b(?:wish|hope|pray)(?:ing)? (?:that )?(?:i|i'd|id|i'll|ill) (?:just )?(?:die|pass away|don't wake|never wake|"
                  r"won't wake|stop breathing)\b(?! (?:of|from|laughing))"),
    ("wish_dead", r"\bcan'?t (?:see|imagine|picture) (?:myself|me) (?:still )?(?:being )?(?:here|alive|around)\b"
                  r"(?! (?:in|at) (?:this|that|the|my) (?:job|city|town|company|place|house|flat|school|country))"),
    ("farewell", r"\btell (?:my |her |him |them )?\w+ (?:that )?i loved (?:her|him|them|you)\b"),
]
WEAK_EN["affairs"].append(r"\bwho gets what\b|\bpaid off (?:every|all)\b|\bcancel\w* (?:the |my )?(?:phone|contract|lease|"
                          r"subscriptions|insurance)\b")
EXCUSES_EN["self_harm"].append(r"\b(?:cable|zip tie|cable tie|tape|box|package|parcel|rope|string|wire|paper|fabric|hair|nails|"
                               r"grass|lawn|hedge|onion|vegetables?|bread|cake|coupon|tag|label)\b")
WEAK_ZH["affairs"].append(r"欠[^。！？]{0,8}(?:钱|债)[^。！？]{0,6}还(?:清|完)了|照片(?:都|全)删(?:了|光)|(?:后事|东西)(?:都)?(?:安排|处理|交代)好了")
WEAK_ZH["final"].append(r"终于干净了|干干净净")
EXCUSES_ZH["self_harm"].append(r"被[^。！？]{0,6}(?:抓|咬|划|割|烫|打|撞|扎|挠)|猫|狗|宠物")
EXCUSES_ZH["intent"].append(r"(?:班|课|学|作业|活|工作)[^。！？]{0,3}(?:上|干|写|做|学)得(?:我)?(?:都|真)?想死")
EXCUSES_ZH["plan"].append(r"剧本杀|剧本|剧情|结局|情节|角色")

# From the misses and false alarms of bench/care/heldout11-12, once read.
STRONG_EN += [
    ("wish_dead", r"\b(?:wish|hope|pray)(?:ing)? (?:that )?(?:i|i'd|id|i'll|ill) (?:get|got|would get) (?:hit|run over|killed|shot)\b"),
    ("wish_dead", r"\bbeing dead (?:sounds|seems|feels|would be|must be|looks)\b|\bdeath (?:sounds|seems|feels|looks) (?:so |much |more |"
                  r"like )*(?:peaceful|nice|better|good|appealing|like a relief|easier)\b"),
    ("method_question", r"\b(?:tallest|highest|high enough|roof|bridge|pills|rope|gun)\b[^!?]{0,60}\bso (?:it'?s|its|it is|it will be|"
                        r"it'll be|it would be) (?:quick|fast|certain|painless|over (?:quickly|fast))\b"),
    ("self_harm", r"\b(?:long sleeves|hoodies?|bracelets?|jeans|plasters|band-?aids)\b[^.!?]{0,40}\bso (?:no ?one|nobody|people|they|"
                  r"my \w+) (?:can't |won't |doesn't |don't )?(?:sees?|notices?|asks?)\b[^.!?]{0,20}\b(?:marks|scars|cuts|burns|arms|"
                  r"wrists|thighs)\b|\bhid(?:e|ing)? (?:the|my) (?:marks|scars|cuts|burns)\b"),
]
STRONG_ZH += [
    ("plan", r"绳子[^。！？]{0,20}(?:横梁|房梁|吊扇|门框|挂钩)|(?:横梁|房梁|吊扇|门框)[^。！？]{0,10}(?:承得住|撑得住|受得住|吊得住|够结实)|"
             r"没(?:有)?人会(?:发现|找到|拦(?:住)?)我(?:了)?(?=[。！？，,.!?\s]|$)"),
    ("burden", r"(?:我)?(?:要是|如果|若是)?(?:不在了|死了|消失了)[^。！？]{0,10}(?:就能|就可以|就会|才能)[^。！？]{0,8}(?:重新开始|解脱|轻松|"
               r"好过|幸福|过得更好)"),
    ("method_question", r"(?:致命|致死|能死人|吃死人)的?(?:药|剂量|量)"),
]

EXCUSES_EN["wish_dead"].append(r"\b(?:project|deadline|exam|launch|goes live|submit\w*|release|ship\w*|presentation|interview)\b")
EXCUSES_EN["intent"].append(r"\bwhat does\b[^.!?]{0,40}\bmean\b|\b(?:western|idiom|phrase|expression|slang)\b")

# What a sentence of an answer must touch before the answer classifier judges it: death and life,
# ending, burden, secrecy, giving up, means and places, a plan or a goodbye. Calm imagery ("waves
# arrive and leave again without any hurry", "rest here for a moment") shares the classifier's
# words of peace and rest with harmful answers, and is never its to judge.
ANSWER_CUE_EN = (
    r"\b(?:die|dies|dying|death|dead|suicid\w*|kill\w*|life|living|alive|gone|end it|end things|ending|burden|without you|"
    r"better off|nobody|no one|no-one|secret|tell anyone|between us|stop (?:fighting|trying|living|existing)|give up|giving up|"
    r"let go of|fight(?:ing)? (?:anymore|any more|long enough)|suffer(?:ed|ing)? enough|owe|pain will|hurt(?:ing)? yourself|"
    r"harm\w*|cut\w*|burn\w*|blade|razor|pills|meds|rope|bridge|roof|somewhere high|plan|tonight|decided|decision|choice|"
    r"goodbye|note|letter|belongings|things away|world|anymore|any more|join|waiting for you|other side|forever|for good|"
    r"free from|deserve|right to|your call|go ahead|manage without|relief|disappear\w*|vanish\w*|fade away|a problem for)\b"
)
ANSWER_CUE_ZH = (r"死|活|命|走了|离开|结束|不在|负担|累赘|没有你|没人|秘密|别告诉|不用告诉|放弃|放手|撑|熬|解脱|伤害|割|烫|药|绳|桥|楼|"
                 r"天台|高处|计划|今晚|决定|选择|告别|再见|信|东西|世界|另一边|那边|等你|永远|值得|不欠|成全|安排")
