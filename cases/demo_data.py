"""What the demo holds: its teams, people and accounts, and what customers and agents say.

Texts are kept as plain blocks to read like a script: `[section]` starts a section, `- ` an
entry, an indented line continues it. Placeholders filled per conversation: {name} (the
customer's first name), {order}, {product}, {amount} and {days}. Brand replies use "du" in
German, as most brands do on social media.
"""


def sections(text: str) -> dict[str, list[str]]:
    """`[name]` → its entries, each one line of text."""
    found: dict[str, list[str]] = {}
    entries: list[str] = []
    for line in text.splitlines():
        if line.startswith("["):
            entries = found.setdefault(line.strip("[] "), [])
        elif line.startswith("- "):
            entries.append(line[2:].strip())
        elif line.strip():
            entries[-1] += " " + line.strip()
    return found


# fmt: off
# slug, name, assignment strategy, timezone; business hours are added for Kundenservice
TEAMS = [
    ("care", "Customer Care", "least_loaded", "UTC"),
    ("kundenservice", "Kundenservice", "skills", "Europe/Berlin"),
    ("key-accounts", "Key Accounts", "round_robin", "UTC"),
]
# username, role, teams, languages, capacity, first name, last name
USERS = [
    ("agent", "agent", ["care", "key-accounts"], "en,de", 8, "Dana", "Whitlock"),
    ("agent2", "agent", ["kundenservice", "care"], "de,en", 8, "Jonas", "Brenner"),
    ("supervisor", "supervisor", [t[0] for t in TEAMS], "en,de", 0, "Sam", "Okafor"),
    ("admin", "admin", None, "", 0, "Robin", "Hale"),
]
# slug, platform, name, handle, default tier, the brand's identities: key → (digits, handle, name)
ACCOUNTS = [
    ("acme-meta", "meta", "Acme (Facebook, Instagram, WhatsApp)", "acme.store", "mid",
     {"page": (15, "", "Acme"), "instagram": (17, "acme.store", "Acme"),
      "whatsapp": (15, "", "Acme Support")}),
    ("acme-x", "x", "Acme Care on X", "AcmeCare", "mid", {"x": (19, "AcmeCare", "Acme Care")}),
    ("acme-telegram", "telegram", "Acme Help bot", "AcmeHelpBot", "mid",
     {"telegram": (10, "AcmeHelpBot", "Acme Help")}),
    ("acme-web", "generic", "Acme web chat", "", "low", {"web": (12, "", "Acme Support")}),
]
RULES = [
    {"name": "Legal threats", "keywords": "lawyer, attorney, Anwalt, chargeback",
     "priority_floor": "P1", "add_tag": "legal"},
    {"name": "Influencers in public", "min_followers": 10_000, "is_public": True,
     "priority_floor": "P2", "add_tag": "influencer"},
    {"name": "German to Kundenservice", "language": "de", "set_team": "kundenservice"},
    {"name": "High-touch customers to Key Accounts", "contact_tier": "high",
     "set_team": "key-accounts"},
]
# How conversations travel: account, channel, kind of the opening message, share, the brand
# identity answering, and where a "please DM us" moves the customer (the same contact).
ROUTES = {
    "facebook": ("acme-meta", "facebook", "comment", 15, "page"),
    "messenger": ("acme-meta", "messenger", "dm", 11, "page"),
    "instagram": ("acme-meta", "instagram", "comment", 12, "instagram", "instagram_dm"),
    "instagram_dm": ("acme-meta", "instagram", "dm", 8, "instagram"),
    "whatsapp": ("acme-meta", "whatsapp", "dm", 15, "whatsapp"),
    "x": ("acme-x", "x", "post", 14, "x", "x_dm"),
    "x_dm": ("acme-x", "x", "dm", 6, "x"),
    "telegram": ("acme-telegram", "telegram", "dm", 7, "telegram"),
    "web": ("acme-web", "generic", "dm", 10, "web"),
}
# Relative share of conversations starting in each UTC hour of the day.
HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 3, 2]
# fmt: on

# Topic → (weight, kind); complaints may move from a public post into private messages.
TOPICS = {
    "late_delivery": (22, "complaint"),
    "refund": (13, "complaint"),
    "broken_item": (12, "complaint"),
    "login": (9, "complaint"),
    "billing": (8, "complaint"),
    "cancel": (8, "question"),
    "question": (12, "question"),
    "praise": (13, "praise"),
    "legal": (3, "complaint"),
}
AMOUNTS = (19.99, 24.90, 39.00, 49.95, 79.00, 129.00, 249.00)
HANDLES = ["{first}{last[0]}{number}", "{first}.{word}", "{first}_{last:.4}"]
HANDLE_WORDS = ["runs", "bakes", "travels", "codes", "reads", "cycles", "brews", "hikes"]

# Each topic has its openers and "<topic> reply"; where both have as many entries, they pair
# up by position (a question and its answer).
TEXTS = {
    "en": sections("""
[first names]
- Emma Liam Olivia Noah Ava James Sophia Lucas Mia Ethan Chloe Daniel Grace Ryan Zoe Nathan
  Priya Omar Hannah Marcus Isla Leo Ruby Aaron Freya
[last names]
- Carter Hughes Patel Brooks Morgan Reed Foster Shaw Bennett Ellis Nguyen Walsh Hayes Price
  Barnes Doyle Kaur Fleming
[products]
- coffee grinder, smartwatch, blender, desk lamp, espresso machine, wireless speaker,
  electric kettle, hair dryer, robot vacuum, e-reader
[late_delivery]
- My order {order} was supposed to arrive {days} days ago and the tracking hasn't moved since.
  Where is it?
- Still waiting for my {product}. Order {order}. Can someone tell me what's going on?
- <b>why</b> is my order late?? {order} was promised for Monday.
- Ordered the {product} almost two weeks ago and nothing. Not impressed, honestly.
- Hi, the tracking for {order} says 'delivered' but there's nothing at my door. Can you check?
- Third time asking: where is order {order}? 😡
[late_delivery reply]
- Hi {name}, sorry for the wait! I've checked {order}: the parcel is with the carrier and should
  reach you within 2 working days. I'll keep an eye on it.
- Really sorry about this, {name}. The carrier lost track of {order}, so we've sent a
  replacement by express today. You'll get the new tracking link by email.
- Thanks for your patience, {name}. {order} was held at the depot; it's out for delivery
  tomorrow.
[refund]
- I returned the {product} three weeks ago and still no refund. Order {order}.
- How long does a refund usually take? I sent back order {order} last week.
- You received my return for {order} ages ago. Where is my money?
- I was charged {amount} for a return you already have. Please refund me.
[refund reply]
- Hi {name}, your return for {order} has arrived. The refund of {amount} was issued today and
  should show up in 3–5 business days.
- Sorry for the delay, {name}! Refunds take up to 5 business days after the return is checked.
  I've pushed {order} through just now.
[broken_item]
- The {product} I received today is broken. The box was crushed and it won't turn on.
- My {product} stopped working after two days. Really disappointed, it wasn't cheap.
- Got the wrong item for order {order}: I ordered the {product} and received something
  completely different.
[broken_item reply]
- So sorry, {name}! That shouldn't happen. I've arranged a free replacement for {order}; a
  return label is on its way to your inbox.
- Thanks for letting us know, {name}, and sorry for the trouble. Could you send us a photo of
  what arrived? Then we'll ship a replacement straight away.
[login]
- I can't log into my account. The password reset email never arrives.
- Your app keeps logging me out and now it says my password is wrong. I haven't changed it!
- Hi, how do I reset my password? The link on the website seems broken.
[login reply]
- Hi {name}, sorry about that! Please check your spam folder for a mail from
  no-reply@acme.example. I've just sent a fresh reset link, valid for 30 minutes.
- Thanks {name}, the login service had a short outage this morning. It's fixed now; please try
  again and let us know if it still fails.
[billing]
- I was charged twice for order {order}. Please fix this.
- Why is there a charge of {amount} on my card? I didn't order anything this month.
- The invoice for {order} shows the wrong address. Can you send a corrected one?
[billing reply]
- Hi {name}, you're right, the payment for {order} went through twice. The duplicate charge of
  {amount} has been reversed.
- Thanks {name}! That charge is your annual membership renewal. If you'd like to cancel it, I
  can refund it today, just say the word.
- Done, {name}: the corrected invoice for {order} is in your inbox.
[cancel]
- How do I cancel my subscription? I can't find the option anywhere in the app.
- I'd like to cancel my membership, please. It renews next week.
[cancel reply]
- Hi {name}, sorry to see you go! You'll find it under Account → Subscription → Cancel. I've
  cancelled it for you now; a confirmation email is on its way.
[question]
- What are your store hours on Sundays?
- Do you ship to Switzerland? And how long does delivery usually take?
- Is the {product} back in stock anytime soon?
- Can I still change the delivery address for order {order}?
[question reply]
- Hi {name}! Most of our stores are open Sundays 11:00–17:00; the store finder on our website
  shows the hours of each one.
- Hi {name}, yes we do! Delivery to Switzerland takes 4–6 working days; customs fees are
  included at checkout.
- Good news, {name}: the {product} is expected back next week. Tap 'notify me' on the product
  page and we'll email you.
- Done, {name}! {order} hadn't shipped yet, so I've updated the address for you.
[praise]
- Just got my {product} and I love it! Fast delivery too, thank you 🙏
- Shoutout to your support team, they sorted my problem in five minutes. Great service!
- Best {product} I've ever owned. Thanks Acme!
- Honestly impressed: ordered yesterday, arrived this morning. ❤️
[praise reply]
- Thank you so much, {name}! That made our day. Enjoy!
- Aww, thanks {name}! We'll pass that on to the team. ❤️
[legal]
- Three weeks and still no refund for {order}. If I don't hear back today I'm filing a
  chargeback with my bank.
- This is my last message before I hand this over to my lawyer. Order {order}, {amount}, no
  product, no refund.
[legal reply]
- Hi {name}, I'm really sorry it came to this. I've escalated {order} to our payments team and
  the refund of {amount} is approved; you'll get a confirmation today.
[move to dm]
- Sorry to hear that, {name}! Please send us a DM with your order number and we'll sort it out
  right away.
- Hi {name}, we're on it. Could you DM us your order number so we can take a look?
[dm details]
- Hi, here's my order number as requested: {order}.
- Sent you my details. Order {order}, it's under this name.
[thanks]
- Thank you, that worked!
- Great, thanks for the quick help!
- Perfect, got it. Thanks!
- Brilliant, appreciate it 🙌
[unhappy]
- That's what you said last week. Still nothing.
- Still no update... this is getting really frustrating.
- I checked again and nothing has changed. Can someone actually look into it?
- That doesn't help me at all. I need this sorted today.
[escalate]
- This is ridiculous. I want to speak to a manager.
- Forget it. I'm disputing the payment with my bank (chargeback).
- I've been patient long enough. Next step is my lawyer.
[nudge]
- Hello? Anyone there?
- Still waiting for an answer here...
[unhappy reply]
- I completely understand, {name}. I've escalated this to my supervisor and we'll get back to
  you today.
- Sorry again, {name}. I've opened a priority ticket and will update you by tomorrow noon.
[escalate reply]
- I'm very sorry, {name}. My supervisor has your case now and will contact you personally today.
[thanks reply]
- You're welcome, {name}! Have a great day.
- Happy to help, {name}! 😊
"""),
    "de": sections("""
[first names]
- Lena Jonas Anna Lukas Marie Felix Sophie Paul Laura Tim Julia Max Lea Niklas Jan Katharina
  Moritz Sarah Tobias Mehmet Ayşe Clara Finn Greta Emil
[last names]
- Müller Schmidt Becker Wagner Hoffmann Schulz Koch Richter Klein Wolf Neumann Schwarz Krüger
  Hartmann Lange Yılmaz Vogel Brandt
[products]
- Kaffeemühle, Smartwatch, Standmixer, Schreibtischlampe, Espressomaschine,
  Bluetooth-Lautsprecher, Wasserkocher, Föhn, Saugroboter, E-Reader
[late_delivery]
- Meine Bestellung {order} sollte vor {days} Tagen ankommen und die Sendungsverfolgung zeigt
  seitdem nichts Neues. Wo bleibt sie?
- Ich warte immer noch auf meine Lieferung ({product}), Bestellnummer {order}. Was ist da los?
- Laut Tracking wurde {order} zugestellt, aber bei mir ist nichts angekommen. Können Sie das
  bitte prüfen?
- Lieferung verspätet, schon wieder. Bestellung {order}, bestellt vor fast zwei Wochen. Echt
  ärgerlich.
- Hallo, wann kommt endlich meine Bestellung {order}? Ich brauche den Artikel dringend.
[late_delivery reply]
- Hallo {name}, entschuldige bitte die Verzögerung! Deine Bestellung {order} liegt beim
  Versanddienstleister und sollte in 1–2 Werktagen bei dir sein.
- Das tut uns sehr leid, {name}. Das Paket {order} ist leider verloren gegangen, wir haben heute
  per Express Ersatz verschickt. Die neue Sendungsnummer kommt per E-Mail.
- Danke für deine Geduld, {name}. Die Sendung {order} hing im Depot fest und wird morgen
  zugestellt.
[refund]
- Ich habe den Artikel ({product}) vor drei Wochen zurückgeschickt und noch keine
  Rückerstattung erhalten. Bestellung {order}.
- Wie lange dauert eine Rückerstattung normalerweise? Meine Rücksendung {order} ist seit letzter
  Woche bei euch.
- Wo bleibt mein Geld? Die Retoure zu {order} ist laut Sendungsverfolgung längst angekommen.
[refund reply]
- Hallo {name}, deine Retoure zu {order} ist angekommen. Die Rückerstattung über {amount} wurde
  heute angewiesen und ist in 3–5 Werktagen auf deinem Konto.
- Entschuldige die Wartezeit, {name}! Ich habe die Rückerstattung für {order} gerade
  freigegeben.
[broken_item]
- Der Artikel ({product}) kam heute kaputt an, der Karton war völlig zerdrückt.
- Mein neues Gerät ({product}) funktioniert nach zwei Tagen schon nicht mehr. Sehr enttäuschend.
- Falscher Artikel geliefert! Bestellung {order}, bestellt hatte ich: {product}.
[broken_item reply]
- Das tut uns leid, {name}! Wir schicken dir kostenlos Ersatz für {order}, das
  Rücksendeetikett kommt per E-Mail.
- Danke für den Hinweis, {name}, und entschuldige den Ärger. Kannst du uns ein Foto von dem
  schicken, was angekommen ist? Dann schicken wir sofort Ersatz los.
[login]
- Ich komme nicht mehr in mein Konto, die E-Mail zum Passwort zurücksetzen kommt nie an.
- Passwort vergessen – wie kann ich es zurücksetzen? Der Link auf der Seite funktioniert nicht.
- Die App meldet mich ständig ab und jetzt soll mein Passwort falsch sein. Ich habe nichts
  geändert!
[login reply]
- Hallo {name}, schau bitte auch im Spam-Ordner nach einer Mail von no-reply@acme.example. Ich
  habe dir gerade einen neuen Link geschickt.
- Danke {name}, heute Morgen gab es eine kurze Störung beim Login. Jetzt läuft wieder alles,
  probier es bitte noch einmal.
[billing]
- Mir wurde die Bestellung {order} doppelt abgebucht. Bitte korrigieren.
- Warum wurden {amount} von meinem Konto abgebucht? Ich habe diesen Monat nichts bestellt.
- Auf der Rechnung zu {order} steht die falsche Adresse. Können Sie mir eine korrigierte
  Rechnung schicken?
[billing reply]
- Hallo {name}, da hast du recht, {order} wurde doppelt abgebucht. Die doppelte Zahlung über
  {amount} ist storniert.
- Danke {name}! Das ist die Verlängerung deiner Jahresmitgliedschaft. Wenn du kündigen möchtest,
  erstatten wir den Betrag heute noch.
- Erledigt, {name}: Die korrigierte Rechnung zu {order} ist in deinem Postfach.
[cancel]
- Wie kann ich mein Abo kündigen? Ich finde die Option in der App nirgends.
- Ich möchte mein Abo kündigen, es verlängert sich sonst nächste Woche.
- Abo kündigen geht online nicht, da kommt nur eine Fehlermeldung. Bitte zum nächstmöglichen
  Termin kündigen.
[cancel reply]
- Hallo {name}, schade, dass du gehst! Ich habe dein Abo gerade gekündigt, die Bestätigung kommt
  per E-Mail. Künftig geht das auch unter Konto → Abo.
- Danke {name}, dein Abo ist zum Ende der Laufzeit gekündigt. Die Bestätigung haben wir dir per
  E-Mail geschickt.
[question]
- Wie lange habt ihr samstags geöffnet?
- Wie lange ist die Lieferzeit nach Österreich?
- Kommt der Artikel ({product}) bald wieder rein?
- Kann ich die Lieferadresse für {order} noch ändern?
[question reply]
- Hallo {name}! Samstags haben die meisten Filialen von 9 bis 20 Uhr geöffnet, die Zeiten jeder
  Filiale findest du in der Filialsuche.
- Hallo {name}, nach Österreich liefern wir in 3–5 Werktagen, versandkostenfrei ab 50 Euro.
- Gute Nachrichten, {name}: Der Artikel ist ab nächster Woche wieder verfügbar. Mit
  „Benachrichtigen“ auf der Produktseite sagen wir dir Bescheid.
- Erledigt, {name}! {order} war noch nicht versendet, ich habe die Adresse geändert.
[praise]
- Meine Bestellung ist heute angekommen, super schnell und toll verpackt. Danke! 🙏
- Großes Lob an euren Kundenservice, mein Problem war in fünf Minuten gelöst.
- Ich liebe meine neue Kaffeemühle. Beste Qualität, weiter so!
[praise reply]
- Vielen Dank, {name}! Das freut uns riesig. Viel Spaß damit!
- Danke für das Lob, {name}! Wir geben es ans Team weiter. ❤️
[legal]
- Seit drei Wochen keine Rückerstattung für {order}. Wenn sich bis morgen nichts tut, schalte
  ich meinen Anwalt ein.
- Ich habe {amount} bezahlt und nie etwas bekommen. Mein Anwalt ist informiert.
[legal reply]
- Hallo {name}, es tut uns wirklich leid, dass es so weit gekommen ist. Ich habe {order} an
  unser Zahlungsteam eskaliert, die Rückerstattung über {amount} ist freigegeben.
[move to dm]
- Das tut uns leid, {name}! Schick uns bitte eine DM mit deiner Bestellnummer, dann kümmern wir
  uns sofort darum.
[dm details]
- Hallo, hier wie gewünscht meine Bestellnummer: {order}.
[thanks]
- Danke, hat geklappt!
- Super, vielen Dank für die schnelle Hilfe!
- Perfekt, danke!
[unhappy]
- Das habt ihr letzte Woche auch schon gesagt. Es passiert nichts.
- Immer noch keine Neuigkeiten... langsam reicht es mir.
- Das hilft mir leider überhaupt nicht weiter. Ich brauche heute eine Lösung.
[escalate]
- Das ist doch lächerlich. Ich möchte bitte mit einer Führungskraft sprechen.
- Mir reicht's, ich lasse die Zahlung über meine Bank zurückbuchen.
- Jetzt reicht es. Ich gebe das an meinen Anwalt weiter.
[nudge]
- Hallo? Ist da jemand?
- Warte immer noch auf eine Antwort...
[unhappy reply]
- Das verstehe ich voll und ganz, {name}. Ich habe das an meine Teamleitung weitergegeben, wir
  melden uns heute noch bei dir.
- Nochmals Entschuldigung, {name}. Ich habe einen Nachforschungsauftrag gestellt und melde mich
  bis morgen Mittag.
[escalate reply]
- Das tut mir sehr leid, {name}. Meine Teamleitung übernimmt deinen Fall und meldet sich heute
  noch persönlich.
[thanks reply]
- Gern geschehen, {name}! Schönen Tag noch.
- Immer gern, {name}! 😊
"""),
}

NOTES = [
    "Asked the warehouse for a status update on this one.",
    "Customer prefers to be contacted in the evening.",
    "Replacement approved by the team lead, waiting for stock.",
    "Lager um Rückmeldung gebeten, Antwort bis morgen.",
]
ESCALATION_NOTE = (
    "Escalated: the customer threatens legal steps or a chargeback. Refund approved by finance; "
    "please confirm in writing today."
)

# [title | language | keywords | page on the help site] → the article's text
ARTICLES = sections("""
[Refund policy | en | refund, money back, return, returned | refunds]
- Refunds are issued within 5 business days after your return arrives at our warehouse. The
  money goes back to the payment method you used; bank transfers can take 3 more days.
[Delivery times | en | delivery, shipping, late, tracking, parcel, arrive | delivery]
- Standard delivery takes 2–4 working days, express 1 day. You'll find the tracking link in
  your shipping confirmation; if it hasn't moved for 3 days, tell us and we'll check.
[Password reset | en | password, reset, login, log, account, locked | password]
- Use 'Forgot password' on the login page; the link is valid for 30 minutes. No email? Check
  your spam folder for no-reply@acme.example.
[Cancel your subscription | en | cancel, subscription, membership, renew | cancel]
- You can cancel any time under Account → Subscription → Cancel. It stays active until the end
  of the paid period and you get a confirmation by email.
[Store hours | en | store, hours, open, opening, sunday | stores]
- Our stores are open Monday to Saturday 9:00–20:00; selected stores also open on Sundays
  11:00–17:00. The store finder shows the hours of each store.
[Rückerstattung | de | rückerstattung, geld, retoure, rücksendung, erstattung | de/erstattung]
- Die Rückerstattung erfolgt innerhalb von 5 Werktagen, nachdem deine Rücksendung bei uns
  angekommen ist, auf das Zahlungsmittel, mit dem du bezahlt hast.
[Lieferzeit | de | lieferung, lieferzeit, versand, sendung, paket, tracking | de/lieferung]
- Die Standardlieferung dauert 2–4 Werktage, Express 1 Werktag. Den Link zur
  Sendungsverfolgung findest du in der Versandbestätigung.
[Passwort zurücksetzen | de | passwort, zurücksetzen, login, konto, anmelden | de/passwort]
- Klicke auf der Anmeldeseite auf „Passwort vergessen“; der Link ist 30 Minuten gültig. Keine
  E-Mail bekommen? Schau bitte im Spam-Ordner nach.
[Abo kündigen | de | abo, kündigen, kündigung, mitgliedschaft, verlängerung | de/abo]
- Du kannst dein Abo jederzeit unter Konto → Abo → Kündigen beenden. Es läuft bis zum Ende des
  bezahlten Zeitraums, die Bestätigung kommt per E-Mail.
""")

# [title | shortcut | language | team slug or -] → the reply's text
CANNED_REPLIES = sections("""
[Late delivery – apology | late | en | -]
- Hi, sorry your order is taking longer than expected. I've checked with the carrier and will
  update you as soon as I hear back.
[Move to DM | dm | en | -]
- Sorry to hear that! Please send us a DM with your order number and we'll sort it out.
[Refund confirmed | refund | en | -]
- Good news: your refund has been issued and will show up in 3–5 business days.
[Lieferung verspätet | lieferung | de | kundenservice]
- Entschuldige die Verzögerung! Ich habe beim Versanddienstleister nachgefragt und melde mich,
  sobald ich eine Antwort habe.
[Bitte per DM | dm-de | de | kundenservice]
- Das tut uns leid! Schick uns bitte eine DM mit deiner Bestellnummer, dann kümmern wir uns
  sofort darum.
[Rückerstattung bestätigt | erstattung | de | kundenservice]
- Gute Nachrichten: Deine Rückerstattung ist angewiesen und in 3–5 Werktagen auf deinem Konto.
""")
