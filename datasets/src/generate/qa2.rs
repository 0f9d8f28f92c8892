//! Task qa2, two supporting facts: `Where is the <object>?` answered through the person who carried it.
//!
//! The world has the 4 people, the 6 places and 3 objects (football, apple, milk). Each statement is one action
//! of a person drawn uniformly:
//! - a person whose place is not yet known always moves: `<person> <verb> the <place>.` (a place other than the
//!   current one, verb from the 5 movement verbs);
//! - otherwise the person moves (probability 1/2), takes an object (1/4: `got`, `picked up`, `grabbed` or `took
//!   the <object> there.`) or drops one they carry (1/4: `dropped`, `discarded`, `put down` or `left the
//!   <object>.`); when the chosen action is impossible, the person moves instead. An object can be taken if
//!   nobody holds it and it was either never seen or dropped at the person's place.
//!
//! A story has 5 questions; before each come 2 to 4 statements (uniform), plus, if no object has been seen yet,
//! the statements needed to have one taken. A question asks about an object whose place is known, chosen
//! uniformly. Its answer is the holder's current place, or the place where it was dropped. Its supporting facts
//! are, in this order, the object's latest take or drop and the statement that put its holder (at the time of
//! that take or drop, for a dropped object) at that place, as in the official files (`\tgarden\t12 6`).
//!
//! ```
//! use rkeras_datasets::{generate, parse_babi};
//! let examples = parse_babi(&generate::qa2(3, 9), "qa2", false)?;
//! assert_eq!(examples.len(), 15);
//! assert!(examples.iter().all(|e| e.supporting.len() == 2 && e.question.iter().take(3).eq(["Where", "is", "the"])));
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

use std::fmt::Write;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{MOVE_VERBS, PEOPLE, PLACES};

/// The objects of task qa2.
pub const OBJECTS: [&str; 3] = ["football", "apple", "milk"];
/// The verbs of taking, used as `<person> <verb> the <object> there.`.
pub const TAKE_VERBS: [&str; 4] = ["got", "picked up", "grabbed", "took"];
/// The verbs of dropping, used as `<person> <verb> the <object>.`.
pub const DROP_VERBS: [&str; 4] = ["dropped", "discarded", "put down", "left"];

const QUESTIONS_PER_STORY: usize = 5;
const MIN_STATEMENTS_PER_QUESTION: usize = 2;
const MAX_STATEMENTS_PER_QUESTION: usize = 4;

/// Generates `num_stories` qa2 stories (5 questions each) in bAbI text format, from `seed`.
pub fn qa2(num_stories: usize, seed: u64) -> String {
    write_stories(num_stories, &mut StdRng::seed_from_u64(seed))
}

pub(super) fn write_stories(num_stories: usize, rng: &mut StdRng) -> String {
    let mut out = String::new();
    for _ in 0..num_stories {
        World::default().write_story(rng, &mut out);
    }
    out
}

/// Where an object is, as far as the story has told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectState {
    /// Not mentioned yet.
    Unseen,
    /// Carried by a person since statement `fact`.
    Held { person: usize, fact: usize },
    /// Dropped at `place` by statement `fact`; `place_fact` put the dropper there.
    Dropped {
        place: usize,
        fact: usize,
        place_fact: usize,
    },
}

/// The state of one story.
#[derive(Debug, Clone)]
struct World {
    /// Per person: (place index, id of the statement that put them there).
    location: [Option<(usize, usize)>; PEOPLE.len()],
    objects: [ObjectState; OBJECTS.len()],
    /// The id of the latest line written.
    id: usize,
}

impl Default for World {
    fn default() -> Self {
        Self {
            location: [None; PEOPLE.len()],
            objects: [ObjectState::Unseen; OBJECTS.len()],
            id: 0,
        }
    }
}

impl World {
    fn write_story(&mut self, rng: &mut StdRng, out: &mut String) {
        for _ in 0..QUESTIONS_PER_STORY {
            let statements =
                rng.random_range(MIN_STATEMENTS_PER_QUESTION..=MAX_STATEMENTS_PER_QUESTION);
            for _ in 0..statements {
                self.random_action(rng, out);
            }
            while self.known_objects().is_empty() {
                self.forced_action(rng, out);
            }
            self.question(rng, out);
        }
    }

    /// Objects whose place the story has told.
    fn known_objects(&self) -> Vec<usize> {
        (0..OBJECTS.len())
            .filter(|&o| self.objects[o] != ObjectState::Unseen)
            .collect()
    }

    fn random_action(&mut self, rng: &mut StdRng, out: &mut String) {
        let person = rng.random_range(0..PEOPLE.len());
        let Some((place, _)) = self.location[person] else {
            return self.move_person(person, rng, out);
        };
        match rng.random_range(0..4) {
            2 => {
                let takeable: Vec<usize> = (0..OBJECTS.len())
                    .filter(|&o| match self.objects[o] {
                        ObjectState::Unseen => true,
                        ObjectState::Dropped { place: at, .. } => at == place,
                        ObjectState::Held { .. } => false,
                    })
                    .collect();
                match takeable.len() {
                    0 => self.move_person(person, rng, out),
                    n => self.take(person, takeable[rng.random_range(0..n)], rng, out),
                }
            }
            3 => {
                let carried: Vec<usize> = (0..OBJECTS.len())
                    .filter(|&o| matches!(self.objects[o], ObjectState::Held { person: p, .. } if p == person))
                    .collect();
                match carried.len() {
                    0 => self.move_person(person, rng, out),
                    n => self.drop_object(person, carried[rng.random_range(0..n)], rng, out),
                }
            }
            _ => self.move_person(person, rng, out),
        }
    }

    /// An action that makes progress towards a known object when none is known (all objects unseen):
    /// a located person takes one, or, if nobody is located yet, someone moves.
    fn forced_action(&mut self, rng: &mut StdRng, out: &mut String) {
        let located: Vec<usize> = (0..PEOPLE.len())
            .filter(|&p| self.location[p].is_some())
            .collect();
        if located.is_empty() {
            let person = rng.random_range(0..PEOPLE.len());
            self.move_person(person, rng, out);
        } else {
            let person = located[rng.random_range(0..located.len())];
            let object = rng.random_range(0..OBJECTS.len());
            self.take(person, object, rng, out);
        }
    }

    fn next_id(&mut self) -> usize {
        self.id += 1;
        self.id
    }

    fn move_person(&mut self, person: usize, rng: &mut StdRng, out: &mut String) {
        let place = match self.location[person] {
            Some((current, _)) => {
                let draw = rng.random_range(0..PLACES.len() - 1);
                if draw >= current { draw + 1 } else { draw }
            }
            None => rng.random_range(0..PLACES.len()),
        };
        let verb = MOVE_VERBS[rng.random_range(0..MOVE_VERBS.len())];
        let id = self.next_id();
        let _ = writeln!(out, "{id} {} {verb} the {}.", PEOPLE[person], PLACES[place]);
        self.location[person] = Some((place, id));
    }

    fn take(&mut self, person: usize, object: usize, rng: &mut StdRng, out: &mut String) {
        let verb = TAKE_VERBS[rng.random_range(0..TAKE_VERBS.len())];
        let id = self.next_id();
        let _ = writeln!(
            out,
            "{id} {} {verb} the {} there.",
            PEOPLE[person], OBJECTS[object]
        );
        self.objects[object] = ObjectState::Held { person, fact: id };
    }

    fn drop_object(&mut self, person: usize, object: usize, rng: &mut StdRng, out: &mut String) {
        let Some((place, place_fact)) = self.location[person] else {
            return;
        };
        let verb = DROP_VERBS[rng.random_range(0..DROP_VERBS.len())];
        let id = self.next_id();
        let _ = writeln!(
            out,
            "{id} {} {verb} the {}.",
            PEOPLE[person], OBJECTS[object]
        );
        self.objects[object] = ObjectState::Dropped {
            place,
            fact: id,
            place_fact,
        };
    }

    fn question(&mut self, rng: &mut StdRng, out: &mut String) {
        let known = self.known_objects();
        if known.is_empty() {
            return;
        }
        let object = known[rng.random_range(0..known.len())];
        let answer = match self.objects[object] {
            ObjectState::Held { person, fact } => {
                self.location[person].map(|(place, place_fact)| (place, fact, place_fact))
            }
            ObjectState::Dropped {
                place,
                fact,
                place_fact,
            } => Some((place, fact, place_fact)),
            ObjectState::Unseen => None,
        };
        if let Some((place, fact, place_fact)) = answer {
            let id = self.next_id();
            let _ = writeln!(
                out,
                "{id} Where is the {}? \t{}\t{fact} {place_fact}",
                OBJECTS[object], PLACES[place]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_story_has_five_questions_with_two_facts() {
        let text = qa2(50, 4);
        let questions: Vec<&str> = text.lines().filter(|l| l.contains('\t')).collect();
        assert_eq!(questions.len(), 250);
        for q in questions {
            let facts = q.rsplit('\t').next().unwrap();
            assert_eq!(facts.split(' ').count(), 2, "{q}");
        }
    }

    #[test]
    fn all_actions_occur() {
        let text = qa2(50, 8);
        for verb in TAKE_VERBS.iter().chain(&DROP_VERBS).chain(&MOVE_VERBS) {
            assert!(
                text.contains(&format!(" {verb} the ")),
                "{verb} never generated"
            );
        }
    }
}
