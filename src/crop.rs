//! Cutting a square picture by hand: which square of an image a profile picture shows, moved and zoomed by its owner, and always inside the image.

/// The closest a picture can zoom in: a square a quarter of the image's shorter side.
pub const MAX_ZOOM: f64 = 4.0;

/// A square of an image (in the image's pixels): its centre and how far it zooms in (1:
/// the largest square that fits). Every change keeps the square inside the image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crop {
    width: f64,
    height: f64,
    zoom: f64,
    center_x: f64,
    center_y: f64,
}

impl Crop {
    /// The middle square of a `width` × `height` image, as large as fits.
    pub fn new(width: u32, height: u32) -> Self {
        let (width, height) = (f64::from(width.max(1)), f64::from(height.max(1)));
        Self {
            width,
            height,
            zoom: 1.0,
            center_x: width / 2.0,
            center_y: height / 2.0,
        }
    }

    /// The whole image's width and height, in pixels.
    pub fn image_size(&self) -> (f64, f64) {
        (self.width, self.height)
    }

    pub fn zoom(&self) -> f64 {
        self.zoom
    }

    /// The square's side, in image pixels.
    pub fn side(&self) -> f64 {
        self.width.min(self.height) / self.zoom
    }

    /// The square's left and top edges and its side, in image pixels.
    pub fn rect(&self) -> (f64, f64, f64) {
        let side = self.side();
        (self.center_x - side / 2.0, self.center_y - side / 2.0, side)
    }

    /// The square moved by `dx`, `dy` image pixels (as far as the image goes).
    pub fn moved(self, dx: f64, dy: f64) -> Self {
        Self {
            center_x: self.center_x + finite(dx),
            center_y: self.center_y + finite(dy),
            ..self
        }
        .inside()
    }

    /// The square zoomed to `zoom` (between 1 and [`MAX_ZOOM`]) around its centre.
    pub fn zoomed(self, zoom: f64) -> Self {
        let zoom = if zoom.is_finite() {
            zoom.clamp(1.0, MAX_ZOOM)
        } else {
            self.zoom
        };
        Self { zoom, ..self }.inside()
    }

    /// How far one arrow key moves the square: a twentieth of its side.
    pub fn step(&self) -> f64 {
        self.side() / 20.0
    }

    fn inside(self) -> Self {
        let half = self.side() / 2.0;
        Self {
            center_x: self.center_x.clamp(half, self.width - half),
            center_y: self.center_y.clamp(half, self.height - half),
            ..self
        }
    }
}

fn finite(delta: f64) -> f64 {
    if delta.is_finite() { delta } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn it_starts_as_the_largest_middle_square() {
        assert_eq!(Crop::new(200, 100).rect(), (50.0, 0.0, 100.0));
        assert_eq!(Crop::new(100, 300).rect(), (0.0, 100.0, 100.0));
        assert_eq!(Crop::new(0, 0).rect(), (0.0, 0.0, 1.0));
    }

    #[test]
    fn it_moves_and_zooms_as_far_as_the_image_goes() {
        let crop = Crop::new(200, 100);
        assert_eq!(crop.moved(-1000.0, 0.0).rect(), (0.0, 0.0, 100.0));
        assert_eq!(crop.moved(30.0, 30.0).rect(), (80.0, 0.0, 100.0));
        let zoomed = crop.zoomed(2.0);
        assert_eq!(zoomed.rect(), (75.0, 25.0, 50.0));
        assert_eq!(zoomed.moved(0.0, 1000.0).rect(), (75.0, 50.0, 50.0));
        assert_eq!(crop.zoomed(10.0).zoom(), MAX_ZOOM);
        assert_eq!(crop.zoomed(0.1).zoom(), 1.0);
        assert_eq!(crop.zoomed(f64::NAN), crop);
        // Zooming out near an edge brings the square back inside.
        assert_eq!(zoomed.moved(1000.0, 0.0).zoomed(1.0).rect(), (100.0, 0.0, 100.0));
    }

    proptest! {
        #[test]
        fn the_square_stays_inside_the_image(
            width in 1u32..5000,
            height in 1u32..5000,
            changes in prop::collection::vec((-1e4f64..1e4, -1e4f64..1e4, 0.0f64..6.0), 0..20),
        ) {
            let mut crop = Crop::new(width, height);
            for (dx, dy, zoom) in changes {
                crop = crop.moved(dx, dy).zoomed(zoom);
                let (x, y, side) = crop.rect();
                prop_assert!(x >= -1e-9 && y >= -1e-9);
                prop_assert!(x + side <= f64::from(width) + 1e-9);
                prop_assert!(y + side <= f64::from(height) + 1e-9);
                prop_assert!((side - f64::from(width.min(height)) / crop.zoom()).abs() < 1e-9);
            }
        }
    }
}
