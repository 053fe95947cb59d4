//! Acme's meetings (two past, two in the future, one of them all day) and the kickoff's call
//! recording with its transcript, as Attio's transcription cuts speech into short segments.
//! Uses [`super::build`] only.

use uuid::Uuid;

use super::build::{Builder, DAY, HOUR, SEEDED_AT};
use crate::clock::Clock;
use crate::ids::id;
use crate::model::{CallRecording, Meeting, Participant, Segment};
use crate::values::actor;

/// `id(KICKOFF_MEETING)`: the past "Initech renewal kickoff" meeting.
pub const KICKOFF_MEETING: &str = "acme/meeting/initech-renewal-kickoff";
/// `id(SSO_FOLLOW_UP_MEETING)`: the future "Initech SSO follow-up" meeting.
pub const SSO_FOLLOW_UP_MEETING: &str = "acme/meeting/initech-sso-follow-up";
/// `id(HOOLI_MEETING)`: the past "Hooli expansion check-in" meeting.
pub const HOOLI_MEETING: &str = "acme/meeting/hooli-expansion-check-in";
/// `id(UMBRELLA_WORKSHOP_MEETING)`: the future all-day "Umbrella pilot workshop".
pub const UMBRELLA_WORKSHOP_MEETING: &str = "acme/meeting/umbrella-pilot-workshop";
/// `id(KICKOFF_RECORDING)`: the kickoff meeting's call recording.
pub const KICKOFF_RECORDING: &str = "acme/call_recording/initech-renewal-kickoff";
/// How many speaker turns the kickoff recording's transcript has (each several segments: short
/// phrases, as Attio sends them).
pub const KICKOFF_TRANSCRIPT_TURNS: usize = 120;

/// When the kickoff meeting started: 2024-01-17 14:00 UTC.
pub(super) const KICKOFF_START: i64 = SEEDED_AT + 2 * DAY + 5 * HOUR;

/// The Acme members and records the meetings involve.
pub(super) struct Cast {
    pub(super) admin: Uuid,
    pub(super) bob: Uuid,
    pub(super) initech: Uuid,
    pub(super) umbrella: Uuid,
    pub(super) hooli: Uuid,
    pub(super) peter: Uuid,
    pub(super) alice: Uuid,
    pub(super) gavin: Uuid,
    pub(super) renewal: Uuid,
}

/// Adds the meetings and the kickoff's call recording; the future meetings are placed relative
/// to `clock`.
pub(super) fn add(b: &mut Builder, clock: &Clock, cast: Cast) {
    let Cast { admin, bob, initech, umbrella, hooli, peter, alice, gavin, renewal } = cast;
    let companies_id = id("acme/object/companies");
    let (people_id, deals_id) = (id("acme/object/people"), id("acme/object/deals"));
    let today = clock.now().div_euclid(DAY) * DAY;
    let p = |email: &str, status: &'static str, is_organizer: bool| Participant {
        email: email.into(),
        status,
        is_organizer,
    };
    let meeting = |key: &str, title: &str, description: &str, (start, end): (i64, i64)| Meeting {
        id: id(key),
        title: title.into(),
        description: description.into(),
        is_all_day: false,
        start,
        end,
        timezone: Some("UTC".into()),
        participants: Vec::new(),
        linked_records: Vec::new(),
        created_by: actor(admin),
        created_at: SEEDED_AT,
    };
    let kickoff_start = KICKOFF_START;
    let kickoff = Meeting {
        participants: vec![
            p("ada@acme.example", "accepted", true),
            p("peter@initech.example", "accepted", false),
            p("bob@acme.example", "tentative", false),
        ],
        linked_records: vec![(companies_id, initech), (people_id, peter), (deals_id, renewal)],
        ..meeting(
            KICKOFF_MEETING,
            "Initech renewal kickoff",
            "Kick off the Initech renewal: SSO, seats, pricing and timeline.",
            (kickoff_start, kickoff_start + HOUR),
        )
    };
    let follow_up_start = today + 7 * DAY + 15 * HOUR;
    let follow_up = Meeting {
        participants: vec![
            p("ada@acme.example", "accepted", true),
            p("peter@initech.example", "pending", false),
            p("bob@acme.example", "accepted", false),
        ],
        linked_records: vec![(companies_id, initech), (people_id, peter)],
        ..meeting(
            SSO_FOLLOW_UP_MEETING,
            "Initech SSO follow-up",
            "Walk Initech's engineers through the SSO setup and the quote.",
            (follow_up_start, follow_up_start + HOUR / 2),
        )
    };
    let hooli_start = SEEDED_AT + 7 * DAY + 7 * HOUR;
    let hooli_meeting = Meeting {
        participants: vec![p("ada@acme.example", "accepted", true), p("gavin@hooli.example", "accepted", false)],
        linked_records: vec![(companies_id, hooli), (people_id, gavin)],
        ..meeting(
            HOOLI_MEETING,
            "Hooli expansion check-in",
            "How the expansion is landing with Hooli's teams.",
            (hooli_start, hooli_start + 45 * 60),
        )
    };
    let workshop_day = today + 14 * DAY;
    let workshop = Meeting {
        is_all_day: true,
        timezone: None,
        participants: vec![p("bob@acme.example", "accepted", true), p("alice@umbrella.example", "tentative", false)],
        linked_records: vec![(companies_id, umbrella), (people_id, alice)],
        created_by: actor(bob),
        ..meeting(
            UMBRELLA_WORKSHOP_MEETING,
            "Umbrella pilot workshop",
            "On-site day with Umbrella's procurement team to scope the pilot.",
            (workshop_day, workshop_day + DAY),
        )
    };
    b.ws.meetings = vec![kickoff, follow_up, hooli_meeting, workshop];
    b.ws.call_recordings.push(CallRecording {
        id: id(KICKOFF_RECORDING),
        meeting_id: id(KICKOFF_MEETING),
        status: "completed",
        created_by: actor(admin),
        created_at: kickoff_start + HOUR + 10 * 60,
        transcript: kickoff_transcript("Ada Admin", "Peter Gibbons"),
    });
}

/// The kickoff call: six agenda topics, twenty turns each, `host` and `guest` taking turns.
fn kickoff_transcript(host: &str, guest: &str) -> Vec<Segment> {
    const TOPICS: [&str; 6] =
        ["single sign-on", "the seat count", "pricing", "the data migration", "support hours", "the renewal timeline"];
    const TURNS: [&str; 20] = [
        "Next on the agenda: {topic}.",
        "Right, {topic} came up in our planning meeting last week.",
        "Where do things stand on your side with {topic}?",
        "Honestly, {topic} is one of the reasons we are talking about the renewal at all.",
        "Understood. What would a good outcome on {topic} look like for Initech?",
        "Something we can explain to Bill Lumbergh on one slide.",
        "That is fair. We have helped other customers with {topic} before.",
        "Do you have an example you can share?",
        "Yes, I will send a short write-up after this call.",
        "Great, please copy Milton on that email.",
        "Will do. Any hard deadlines around {topic}?",
        "Our fiscal year closes at the end of March, so ideally before then.",
        "March works for us if we agree on the scope this month.",
        "I think that is realistic.",
        "Who else on your team should weigh in on {topic}?",
        "Michael and Samir from engineering, mostly.",
        "Let's get them on the follow-up call.",
        "I will check their calendars.",
        "Perfect. I will note {topic} as an action item.",
        "Sounds good, let's move on.",
    ];
    // Centiseconds, so the times are exact to two decimals.
    let mut at: i64 = 50;
    let mut segments = Vec::new();
    for topic in TOPICS {
        for (turn, text) in TURNS.iter().enumerate() {
            let speaker = if turn % 2 == 0 { host } else { guest };
            for phrase in phrases(&text.replace("{topic}", topic)) {
                let words = phrase.split_whitespace().count() as i64;
                let end = at + 35 * words + 10;
                segments.push(Segment {
                    speech: phrase,
                    start_time: at as f64 / 100.0,
                    end_time: end as f64 / 100.0,
                    speaker: speaker.to_string(),
                });
                at = end + 5;
            }
            at += 60;
        }
    }
    segments
}

/// A turn cut as Attio's transcription cuts speech: short phrases of at most three words, ending
/// at punctuation (its own example: `"Hello,"`, `"Mr Watson,"`).
fn phrases(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        current.push(word);
        if current.len() == 3 || word.ends_with([',', '.', '?', ':', '!']) {
            out.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}
