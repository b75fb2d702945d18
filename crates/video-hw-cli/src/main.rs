//! The `video-hw` command-line tool.

fn main() {
    println!("video-hw");
}
