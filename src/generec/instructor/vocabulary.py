"""The parser's word tables: concepts and their synonyms, off-catalogue topics, casual spellings, stop words.

`DEFAULT_VOCABULARY` and `CONCEPT_SYNONYMS` describe the benchmark's ten concepts; a workspace's
own catalogue brings its own vocabulary (`catalogue.py`), and these tables only add synonyms to
the concepts it shares with them.
"""

from __future__ import annotations

DEFAULT_VOCABULARY = (
    "animal", "architecture", "art", "food", "person", "plant", "science", "space", "text", "texture",
)  # fmt: skip

# concept -> words and phrases that mean it (plurals of plain nouns are derived, see `word_forms`)
CONCEPT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "animal": tuple(
        """animal animals pet pets wildlife cat kitten kitty kitties kitteh kitteh doggo doggos doggy doggie
        dog puppy puppies pup pupper puppers bird horse pony fish fishes bug insect zoo lion tiger bear
        elephant monkey rabbit bunny bunnies fox foxes wolf wolves deer cow sheep goat pig duck owl parrot
        snake reptile mammal creature critter beast fauna safari whale dolphin shark butterfly butterflies
        bee hamster squirrel penguin giraffe zebra panda koala frog turtle chicken hen lizard""".split()
    ),
    "person": tuple(
        """person people persons human face portrait selfie man men woman women kid child children baby babies
        toddler family families friend crowd guy girl boy teen teenager adult actor actress dancer athlete
        celebrity celebrities influencer folks individual headshot humans""".split()
    ),
    "food": tuple(
        """food foods cooking cook recipe pizza snack meal dish dishes baking bake cake dessert coffee tea
        breakfast lunch dinner brunch burger sushi pasta noodle ramen bread cheese fruit vegetable veggies
        salad soup chocolate cookie cuisine chef kitchen eating foodie restaurant drink cocktail barbecue bbq
        grilling steak taco tacos candy donut pastry pastries cupcake sandwich sandwiches curry meat meats beef
        pork bacon sausage sausages ham burgers""".split()
    )
    + ("street food", "ice cream"),
    "plant": tuple(
        """plant flower tree garden gardening leaf leaves forest botany botanical rose tulip succulent cactus
        cacti grass moss fern bloom blossom petal houseplant greenery foliage vine orchid sunflower daisy
        daisies lily lilies bush bushes shrub mushroom woods jungle meadow flora vegetation bouquet""".split()
    ),
    "architecture": tuple(
        """architecture architectural building city cities skyline skyscraper house houses bridge church churches
        cathedral tower castle palace temple mosque interior street urban downtown town monument landmark
        facade ruins cityscape apartment construction brutalism brutalist structures""".split()
    ),
    "space": tuple(
        """space galaxy galaxies star planet astronomy cosmos cosmic universe moon nebula nebulae rocket telescope
        nasa comet asteroid astronaut spaceship spacecraft satellite mars jupiter saturn orbit eclipse meteor
        constellation supernova stargazing astrophotography cosmonaut""".split()
    )
    + ("outer space", "solar system", "night sky", "milky way", "black hole", "black holes"),
    "texture": tuple(
        """texture textures textured pattern surface fabric material grain marble textile knit weave rust
        tile leather wool""".split()
    )
    + ("wood grain",),
    "text": tuple(
        """text texts txt document typography writing handwriting handwritten letter lettering font calligraphy
        book sign word page manuscript poem poetry quote typeface newspaper""".split()
    ),
    "science": tuple(
        """science sciences scientific scientist lab labs laboratory laboratories microscope microscopy microscopic
        cell chemistry chemical biology physics experiment specimen bacteria dna molecule atom research maths
        math fossil geology anatomy""".split()
    ),
    "art": tuple(
        """art arts artwork artist artistic painting painter drawing design sculpture statue museum gallery
        galleries mural graffiti illustration pottery ceramic mosaic exhibition masterpiece canvas craft""".split()
    )
    + ("street art", "fine art"),
}
# Words that name a whole concept: a catalogue tag among them gets the concept's synonyms
# ("cooking" -> pizza, pasta, meat). A narrower tag ("cats") does not: dogs are not cats.
CONCEPT_HEADS: dict[str, frozenset[str]] = {
    "food": frozenset("food foods cooking cook cuisine recipe recipes meal meals eating foodie".split()),
    "animal": frozenset("animal animals pet pets wildlife creature creatures fauna".split()),
    "person": frozenset("person people persons human humans portrait portraits".split()),
    "plant": frozenset("plant plants gardening garden botany flora greenery vegetation".split()),
    "architecture": frozenset("architecture building buildings city cities urban".split()),
    "space": frozenset("space astronomy cosmos universe".split()),
    "texture": frozenset("texture textures pattern patterns material materials".split()),
    "text": frozenset("text texts typography writing lettering".split()),
    "science": frozenset("science sciences research laboratory lab".split()),
    "art": frozenset("art arts artwork artworks painting paintings design".split()),
}
# "nature" is wide: plants and animals both
CONCEPT_MULTI: dict[str, tuple[str, ...]] = {"nature": ("plant", "animal"), "natural world": ("plant", "animal")}

# Topics a catalogue of these concepts does not have: the reject class of embedding grounding.
OTHER_TOPICS = tuple(
    """news sports football soccer basketball baseball tennis golf music songs concerts guitar cars vehicles
    trucks trains planes motorcycles boats politics elections games gaming weather travel vacation fashion
    clothes makeup movies comedy memes jokes pranks dance finance money stocks crypto technology gadgets phones
    computers programming fitness workout gym yoga health medicine beach ocean sea lakes rivers mountains
    hiking camping snow rain storms fire explosions weddings parties holidays christmas shopping education
    history war military religion podcasts interviews unboxing tutorials cleaning business toys magic
    skateboarding surfing skiing racing boxing chess""".split()
)

CASUAL = {
    "moar": "more", "mor": "more", "pls": "please", "plz": "please", "plzz": "please", "plox": "please",
    "pleaseee": "please", "u": "you", "ur": "your", "r": "are", "gimme": "give me", "lemme": "let me",
    "wanna": "want to", "gonna": "going to", "sum": "some", "vids": "videos", "vid": "video", "vidz": "videos",
    "vidoes": "videos", "dat": "that", "dis": "this", "da": "the", "teh": "the", "ppl": "people", "peeps": "people",
    "thx": "thanks", "smth": "something", "sth": "something", "dont": "don't", "doesnt": "doesn't", "cant": "can't",
    "im": "i'm", "ive": "i've", "pix": "pictures", "pics": "pictures", "pic": "picture", "n": "and", "bc": "because",
    "cuz": "because", "tho": "though", "thru": "through", "luv": "love", "wat": "what", "abt": "about", "ya": "you",
    "yall": "you", "kinda": "kind of", "srsly": "seriously", "rly": "really", "ngl": "honestly",
    "tbh": "honestly", "fr": "really", "bruh": "oh", "yo": "hey", "deadass": "really", "lowkey": "really",
    "highkey": "really", "lol": "haha",
}  # fmt: skip

# Words that carry no topic: never kept as a concept.
STOP_WORDS = frozenset(
    """a an the of in on at for with about to from by as into onto over under up down out off than then so too
    very really super quite pretty rather just also again even still now today tonight lately recently anymore
    and or nor & plus i i'm i've i'd i'll me my mine myself you you're your yours we us our they them their he she
    his her it it's its this that these those there here what what's which who whom whose how why when where
    is are was were be been being am do does did doing have has had having can could would should will shall may
    might must let let's get got getting give gives gave giving show shows showing shown see seeing seen watch
    watching want wanna wants wanted like likes liked love loves need needs prefer find recommend recommendations
    search look looking looks looked play playing make makes made making put keep take bring feel feeling think
    know try tell help please thanks thank ok okay yes yeah yep sure hi hello hey hmm hm um uh ugh meh oh wow lol
    lmao haha omg idk tbh btw nah well honestly actually maybe perhaps probably basically literally kind sort type
    types kinds sorts some any all every each lot lots bunch few many much more most less least other others
    another same different new fresh original brand custom unique whole whatever whichever anything something
    everything nothing stuff things thing content videos video clips clip shorts short ones one footage shots shot
    photos photo pictures picture pics images image reels reel posts post items item media feed film films movie
    movies vibe vibes feel style styles styled look theme themed mood tone tones colours colors colour color
    version edition nice good great cool fun interesting awesome amazing beautiful pretty lovely cute random
    better best favourite favorite fav top bored boring bit bits part parts moment moments piece pieces seconds
    long length time times way ways instead please thanks related based featuring feature features mostly only
    again around through because since while though also alone together somewhere anywhere someone anyone else
    here's there's that's close closeup closeups macro email mail e phone number numbers call card credit debit
    address login log account contact reach cell mobile telephone tel ip username user url link send sent
    already done today tomorrow yesterday week weekend night day days morning evening afternoon often sometimes
    usually always forever basically totally literally seriously definitely absolutely kinda sorta gonna weird
    crazy insane wild epic daily random hello hi hey guys dude bro please right back next previous roughly
    approximately approx circa nearly almost exactly isn't aren't wasn't weren't ain't is's whats tho anyway
    anyways though stuffs vid's something's lots tons ton loads load plenty bunch couple few several enough
    cute funny silly good bad okay fine cool neat sick dope lit fix fixed improve improved update updated enjoy
    check checking hear listen read go going come coming start begin continue explore discover learn wish hope
    miss mean guess suppose wonder care mind quick quickly big small tiny huge little old older young large
    frame frames still stills creator creators channel channels uploader popular trending viral famous latest
    work works surprise surprising recent usual normal typical regular same similar kind nicer prettier
    wait happened happening worst slap slaps vegan vegetarian diet nerd fan geek obsessed mood
    mine those lately anymore""".split()
)
# Set phrases that carry no request ("no cap" is not a negation, "for real" not a topic).
FILLER_PHRASES = (("no", "cap"), ("for", "real"), ("to", "be", "honest"), ("not", "gonna", "lie"),
                  ("you", "know"))  # fmt: skip
COMMUNICATION = (("text", "me"), ("email", "me"), ("call", "me"), ("message", "me"), ("dm", "me"), ("ping", "me"),
                 ("contact", "me"), ("text", "him"), ("text", "her"))  # fmt: skip
