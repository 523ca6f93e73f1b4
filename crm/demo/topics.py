"""The demo's topics: what customers write about, per queue topic, with subjects, openings, replies and outcomes.

Data only (a part of ``crm.demo.vocabulary``, which re-exports it as ``V.TOPICS``). ``{ref}``, ``{amount}``,
``{first}`` … are filled by the planner.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    category: str
    subjects: tuple[str, ...]
    openings: tuple[str, ...]  # the customer's first words
    replies: tuple[str, ...]  # the agent's answer
    dispositions: tuple[str, ...]  # the first is the most common outcome
    tags: tuple[str, ...] = ()


TOPICS = {
    "invoice": Topic(
        "Invoice question",
        ("Question about invoice {ref}", "Invoice {ref} looks wrong", "Why was I charged {amount}?"),
        (
            "Hello, my latest invoice ({ref}) shows {amount} but I expected less. Can you explain the charges?",
            "Hi, I don't understand the line items on invoice {ref}. What is the {amount} for?",
        ),
        (
            "Hi {first}, thanks for reaching out. The {amount} covers your plan plus this month's extra usage; "
            "I have attached a breakdown.",
            "Hello {first}, I checked invoice {ref}: it includes a prorated charge from your plan change. "
            "Next month's invoice will be back to normal.",
        ),
        ("Information provided", "Credit issued", "Escalated to billing specialist"),
    ),
    "payment_failed": Topic(
        "Payment failed",
        ("Card declined on renewal", "Payment failed for {ref}", "Cannot pay my bill"),
        (
            "My card was declined when paying {ref}. The card is valid, what is going on?",
            "I got an e-mail saying my payment of {amount} failed. Please help, I don't want to lose service.",
        ),
        (
            "Hi {first}, the bank declined the charge. I have retried it now and it went through; "
            "no service interruption.",
            "Hello {first}, the card on file expired. Once you update it in Settings → Billing we retry automatically.",
        ),
        ("Payment retried", "Information provided", "Customer to update card"),
        ("payments",),
    ),
    "refund": Topic(
        "Refund request",
        ("Refund request for {ref}", "I was charged twice", "Please refund {amount}"),
        (
            "I was charged {amount} twice this month (see {ref}). I would like a refund of the duplicate.",
            "I cancelled before the renewal date but was still charged {amount}. Please refund it.",
        ),
        (
            "Hi {first}, you are right, the second charge was a duplicate. I have issued a refund of {amount}; "
            "it takes 3 to 5 business days.",
            "Hello {first}, I have refunded {amount} to your original payment method.",
        ),
        ("Refund issued", "Refund declined - outside policy", "Escalated to billing specialist"),
        ("refund",),
    ),
    "plan_change": Topic(
        "Plan change",
        ("Downgrade my plan", "Switch to annual billing", "Change plan from next month"),
        (
            "We would like to move to the smaller plan from next month. What happens to our data?",
            "Can I switch to annual billing and keep my discount?",
        ),
        (
            "Hi {first}, done: your plan changes at the next renewal and nothing is lost.",
            "Hello {first}, I switched you to annual billing; the discount stays.",
        ),
        ("Plan changed", "Information provided", "Retention offer accepted"),
    ),
    "payment_method": Topic(
        "Payment method update",
        ("Update my credit card", "Change billing address", "Pay by bank transfer"),
        (
            "I have a new card, how do I update it before the next payment?",
            "Our billing address changed, invoices must show the new one from now on.",
        ),
        (
            "Hi {first}, you can update the card under Settings → Billing; I sent you the direct link.",
            "Hello {first}, I have updated the billing address; invoice {ref} onwards shows it.",
        ),
        ("Information provided", "Account updated"),
    ),
    "login": Topic(
        "Login problem",
        ("Cannot sign in", "Password reset e-mail never arrives", "Account locked"),
        (
            "I can't log in since this morning, it says my password is wrong but I just reset it.",
            "The password reset e-mail never arrives. I checked spam too.",
        ),
        (
            "Hi {first}, your account was locked after several failed attempts; I have unlocked it. Please try again.",
            "Hello {first}, the reset e-mail bounced because of a typo in your address; I corrected it and sent "
            "a new one.",
        ),
        ("Resolved", "Password reset", "Escalated to tier 2"),
        ("login",),
    ),
    "connectivity": Topic(
        "Connectivity issue",
        ("Service keeps disconnecting", "No connection since yesterday", "Very slow connection"),
        (
            "My connection drops every few minutes since yesterday. I already restarted the router.",
            "Everything is extremely slow today, pages take forever to load.",
        ),
        (
            "Hi {first}, I see packet loss on your line; I reset the port from our side, it should be stable now.",
            "Hello {first}, there was congestion in your area; it is cleared. Let us know if it comes back.",
        ),
        ("Resolved", "Technician visit booked", "Escalated to tier 2"),
    ),
    "bug": Topic(
        "Bug report",
        ("Error when exporting a report", "App crashes on start", "Button does nothing"),
        (
            "When I export the monthly report I get 'Something went wrong' (ticket {ref}).",
            "The mobile app crashes right after the splash screen since the last update.",
        ),
        (
            "Hi {first}, thanks for the details. Engineering confirmed the bug; the fix ships this week. "
            "Meanwhile, exporting as CSV works.",
            "Hello {first}, clearing the app cache fixes the crash; the next update prevents it.",
        ),
        ("Workaround provided", "Bug filed", "Resolved"),
        ("bug",),
    ),
    "how_to": Topic(
        "How-to question",
        ("How do I add a user?", "Setting up two-factor authentication", "Where do I find my usage?"),
        (
            "How can I add a colleague to our account?",
            "I'd like to turn on two-factor authentication for everybody in my team. How?",
        ),
        (
            "Hi {first}, go to Settings → Team → Invite and enter their e-mail. I sent you our guide as well.",
            "Hello {first}, two-factor can be enforced under Security → Policies. Happy to walk you through it.",
        ),
        ("Information provided", "Resolved"),
    ),
    "device": Topic(
        "Device setup",
        ("Setting up the new router", "Device not recognised", "Firmware update failed"),
        (
            "I received the new router but the light stays orange. What should I do?",
            "The firmware update stopped at 60 % and now the device does not start.",
        ),
        (
            "Hi {first}, an orange light means it is waiting for activation; I have activated it remotely.",
            "Hello {first}, hold the reset button for 10 seconds to restore the previous firmware; then update again.",
        ),
        ("Resolved", "Replacement sent", "Technician visit booked"),
    ),
    "outage": Topic(
        "Service outage",
        ("Service down?", "Nothing works right now", "Outage in my area?"),
        (
            "Is the service down? Nothing works for me or my colleagues.",
            "We have been offline for 30 minutes, is there an outage?",
        ),
        (
            "Hi {first}, yes, we have an outage affecting your region; engineers are on it. We will update you "
            "as soon as it is fixed.",
            "Hello {first}, the outage is fixed now. Sorry for the trouble; a service credit has been added.",
        ),
        ("Known outage - informed", "Service credit issued", "Resolved"),
        ("outage",),
    ),
    "pricing": Topic(
        "Pricing question",
        ("Price of the Business plan", "Discount for non-profits?", "What does the Pro plan include?"),
        (
            "How much would the Business plan cost for 25 users?",
            "Do you offer discounts for non-profit organisations?",
        ),
        (
            "Hi {first}, for 25 users the Business plan is {amount} per month, billed annually.",
            "Hello {first}, yes, non-profits get 30 % off; I sent you the form.",
        ),
        ("Information provided", "Quote sent", "No sale"),
    ),
    "quote": Topic(
        "Quote request",
        ("Quote for 50 seats", "Request for proposal", "Need a formal quote"),
        (
            "Could you send us a formal quote for 50 seats, annual contract?",
            "Our procurement needs a written quote before Friday.",
        ),
        (
            "Hi {first}, please find quote {ref} attached: {amount} per year.",
            "Hello {first}, quote {ref} is on its way; it is valid for 30 days.",
        ),
        ("Quote sent", "Sale closed", "Follow-up scheduled"),
        ("lead",),
    ),
    "upgrade": Topic(
        "Upgrade",
        ("Upgrade to Pro", "Add 10 more users", "More storage needed"),
        (
            "We are running out of storage, what are the options?",
            "I would like to upgrade to Pro today. Can you do it for me?",
        ),
        (
            "Hi {first}, you are now on Pro; the difference of {amount} is prorated on the next invoice.",
            "Hello {first}, I added 10 users to your account.",
        ),
        ("Sale closed", "Upgrade completed", "Information provided"),
        ("upsell",),
    ),
    "trial": Topic(
        "Trial extension",
        ("Extend my trial", "Trial expired too soon", "Convert trial to paid"),
        (
            "Could we get one more week of trial? We are still evaluating.",
            "My trial expired but I want to keep my data and start paying.",
        ),
        (
            "Hi {first}, I extended your trial by 7 days.",
            "Hello {first}, your trial is converted and all your data is kept.",
        ),
        ("Trial extended", "Sale closed", "No sale"),
    ),
    "demo": Topic(
        "Demo request",
        ("Book a product demo", "Demo for our team", "Webinar registration"),
        ("Can we book a demo for our team next week?", "I'd like to see the reporting features live."),
        (
            "Hi {first}, I booked a demo for Tuesday at 10:00; the invitation is in your inbox.",
            "Hello {first}, our product specialist will call you tomorrow to set up the demo.",
        ),
        ("Demo booked", "Follow-up scheduled"),
        ("lead",),
    ),
    "status": Topic(
        "Order status",
        ("Where is my order?", "Order {ref} status", "Delivery delayed"),
        ("hi, where is my order {ref}? it was due yesterday", "any news about {ref}?"),
        (
            "Hi {first}, order {ref} left our warehouse this morning and arrives tomorrow.",
            "Hi {first}, sorry for the delay: {ref} ships today.",
        ),
        ("Information provided", "Resolved"),
    ),
    "account": Topic(
        "Account question",
        ("Change my phone number", "Close my account", "Update my e-mail"),
        ("how do i change the phone number on my account?", "please close my account"),
        (
            "Hi {first}, I sent you a secure link to change it.",
            "Hi {first}, done. You'll get a confirmation e-mail.",
        ),
        ("Account updated", "Information provided"),
    ),
    "complaint": Topic(
        "Complaint",
        ("Very disappointed", "Third time I'm contacting you", "Terrible experience"),
        (
            "This is the third time I write about the same problem. Nobody helps!",
            "Really disappointed with the service this month.",
        ),
        (
            "Hi {first}, I'm sorry about this. I'm taking ownership and will call you today.",
            "Hi {first}, apologies. I've escalated this to my supervisor and added a credit.",
        ),
        ("Escalated to supervisor", "Service credit issued", "Resolved"),
        ("complaint",),
    ),
    "praise": Topic(
        "Praise",
        ("Thank you!", "Great support", "Kudos to your team"),
        ("just wanted to say your agent {agent} was fantastic yesterday", "thanks for the quick fix!"),
        ("Thank you so much {first}, I'll pass it on to the team!", "Thanks {first}, that made our day!"),
        ("Feedback recorded",),
        ("praise",),
    ),
    "es_factura": Topic(
        "Invoice question",
        ("Consulta sobre la factura {ref}", "Cobro duplicado", "No entiendo mi factura"),
        (
            "Hola, en la factura {ref} me cobran {amount} y no sé por qué.",
            "Buenos días, me han cobrado dos veces este mes.",
        ),
        (
            "Hola {first}, el importe incluye el cambio de plan del mes pasado; le envío el detalle.",
            "Hola {first}, efectivamente era un cobro duplicado; ya hemos emitido el reembolso.",
        ),
        ("Information provided", "Refund issued"),
    ),
    "es_acceso": Topic(
        "Login problem",
        ("No puedo acceder a mi cuenta", "Contraseña bloqueada", "No me llega el correo"),
        (
            "No puedo iniciar sesión desde ayer, dice que la contraseña es incorrecta.",
            "No me llega el correo para restablecer la contraseña.",
        ),
        (
            "Hola {first}, su cuenta estaba bloqueada; ya la he desbloqueado.",
            "Hola {first}, le he enviado un nuevo enlace; revise también la carpeta de spam.",
        ),
        ("Resolved", "Password reset"),
        ("login",),
    ),
    "es_baja": Topic(
        "Plan change",
        ("Cambiar de plan", "Dar de baja el servicio", "Pasar a facturación anual"),
        ("Quiero cambiar al plan básico a partir del mes que viene.", "¿Cómo puedo darme de baja?"),
        (
            "Hola {first}, el cambio se aplicará en la próxima renovación.",
            "Hola {first}, antes de tramitar la baja, le puedo ofrecer un 20 % de descuento.",
        ),
        ("Plan changed", "Retention offer accepted", "Cancelled"),
    ),
}
