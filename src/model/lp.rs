//! A plain linear program in row-wise (CSR) form: what the formulation builds
//! and what [`crate::solve`] hands to HiGHS.

/// A column (variable) of the LP: a cheap index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Col(pub u32);

/// A row (constraint) of the LP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Row(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sense {
    Minimize,
    Maximize,
}

#[derive(Clone, Debug)]
pub struct Lp {
    pub sense: Sense,
    pub col_cost: Vec<f64>,
    pub col_lower: Vec<f64>,
    pub col_upper: Vec<f64>,
    pub row_lower: Vec<f64>,
    pub row_upper: Vec<f64>,
    /// CSR: row `i` has entries `row_start[i]..row_start[i + 1]`.
    pub row_start: Vec<usize>,
    pub index: Vec<u32>,
    pub value: Vec<f64>,
    /// Columns that must take integer values (a MIP when not empty).
    pub integer_cols: Vec<Col>,
}

impl Default for Lp {
    fn default() -> Self {
        Lp {
            sense: Sense::Minimize,
            col_cost: Vec::new(),
            col_lower: Vec::new(),
            col_upper: Vec::new(),
            row_lower: Vec::new(),
            row_upper: Vec::new(),
            row_start: vec![0],
            index: Vec::new(),
            value: Vec::new(),
            integer_cols: Vec::new(),
        }
    }
}

impl Lp {
    pub fn num_cols(&self) -> usize {
        self.col_cost.len()
    }

    pub fn num_rows(&self) -> usize {
        self.row_lower.len()
    }

    pub fn num_nonzeros(&self) -> usize {
        self.value.len()
    }

    /// A variable `>= 0` with the given objective coefficient.
    pub fn add_col(&mut self, cost: f64) -> Col {
        self.add_col_bounded(cost, 0.0, f64::INFINITY)
    }

    pub fn add_col_bounded(&mut self, cost: f64, lower: f64, upper: f64) -> Col {
        let c = Col(self.col_cost.len() as u32);
        self.col_cost.push(cost);
        self.col_lower.push(lower);
        self.col_upper.push(upper);
        c
    }

    /// A binary variable (0 or 1) with the given objective coefficient.
    pub fn add_binary(&mut self, cost: f64) -> Col {
        let c = self.add_col_bounded(cost, 0.0, 1.0);
        self.integer_cols.push(c);
        c
    }

    pub fn is_mip(&self) -> bool {
        !self.integer_cols.is_empty()
    }

    /// `lower <= Σ coef × col <= upper`; zero coefficients are dropped.
    pub fn add_row(
        &mut self,
        lower: f64,
        upper: f64,
        terms: impl IntoIterator<Item = (Col, f64)>,
    ) -> Row {
        for (col, coef) in terms {
            if coef != 0.0 {
                self.index.push(col.0);
                self.value.push(coef);
            }
        }
        self.row_start.push(self.index.len());
        let r = Row(self.row_lower.len() as u32);
        self.row_lower.push(lower);
        self.row_upper.push(upper);
        r
    }

    pub fn row_terms(&self, row: Row) -> impl Iterator<Item = (Col, f64)> + '_ {
        let i = row.0 as usize;
        let range = self.row_start[i]..self.row_start[i + 1];
        self.index[range.clone()]
            .iter()
            .zip(&self.value[range])
            .map(|(&c, &v)| (Col(c), v))
    }
}
